{{/*
Names and labels.
*/}}
{{- define "food-ordering.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "food-ordering.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "food-ordering.labels" -}}
{{ include "food-ordering.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/*
Labels of the Kafka and KafkaNodePool resources. Strimzi copies a resource's labels onto the
pods it runs, so these carry none of the selector labels: the release's NetworkPolicies and
PodDisruptionBudgets must never select the brokers.
*/}}
{{- define "food-ordering.strimziLabels" -}}
food-ordering/release: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "food-ordering.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default (include "food-ordering.fullname" .) -}}
{{- end -}}

{{/*
Facts of the product the chart needs, as the code states them (test/deploy/ holds the two
together): the topics each consumer module reads (src/consumers/<module>.consumer.ts, its
consumer group being the module's name), and each topic's retention (src/events/topics.ts).
*/}}
{{- define "food-ordering.moduleTopics" -}}
transactions: [order.placed, order.cancelled]
order-authority: [order.transition-requested]
confirmations: [order.confirmed]
analytics: [order.placed, order.confirmed, order.payment-failed, order.cancelled, order.status-changed, payment.refunded]
orders-projector: [order.placed, order.status-changed]
{{- end -}}

{{/* retention.ms of each topic: -1 keeps order facts forever (replay rebuilds any read model). */}}
{{- define "food-ordering.topicRetentionMs" -}}
order.placed: "-1"
order.confirmed: "-1"
order.payment-failed: "-1"
order.status-changed: "-1"
order.cancelled: "-1"
payment.refunded: "-1"
notification.sent: "-1"
analytics.updated: "604800000"
order.transition-requested: "-1"
order.transition-decided: "604800000"
{{- end -}}

{{/*
Every topic to create, as src/events/topics.ts's topicSpecs: each product topic, its dead-letter
topic (<topic>.dlq) and its parking topic (<topic>.parked); those two keep 30 days and take a
message of the largest size plus 64 KiB of reason headers.
*/}}
{{- define "food-ordering.topicSpecs" -}}
{{- $setAside := dict "retention" "2592000000" "maxBytes" "1114124" -}}
{{- range $topic, $retention := fromYaml (include "food-ordering.topicRetentionMs" .) }}
{{ $topic }}: { retention: {{ $retention | quote }}, maxBytes: "1048588" }
{{ $topic }}.dlq: { retention: {{ $setAside.retention | quote }}, maxBytes: {{ $setAside.maxBytes | quote }} }
{{ $topic }}.parked: { retention: {{ $setAside.retention | quote }}, maxBytes: {{ $setAside.maxBytes | quote }} }
{{- end }}
{{- end -}}

{{/* A topic's or consumer group's name on the cluster (KAFKA_NAMESPACE prefix). */}}
{{- define "food-ordering.physical" -}}
{{- if .namespace }}{{ printf "%s.%s" .namespace .name }}{{ else }}{{ .name }}{{ end -}}
{{- end -}}

{{/*
How the processes reach Kafka, from Strimzi's resources or from values.
*/}}
{{- define "food-ordering.kafkaClusterName" -}}
{{- .Values.kafka.strimzi.clusterName | default (include "food-ordering.fullname" .) -}}
{{- end -}}

{{- define "food-ordering.kafka" -}}
{{- $k := .Values.kafka -}}
{{- if $k.strimzi.enabled -}}
{{- $cluster := include "food-ordering.kafkaClusterName" . -}}
bootstrapServers: {{ printf "%s-kafka-bootstrap:9093" $cluster }}
tls: true
caSecret: {{ printf "%s-cluster-ca-cert" $cluster }}
caKey: ca.crt
mechanism: scram-sha-512
username: {{ $k.strimzi.user }}
passwordSecret: {{ $k.sasl.existingSecret | default $k.strimzi.user }}
passwordKey: {{ ternary $k.sasl.passwordKey "password" (ne $k.sasl.existingSecret "") }}
{{- else -}}
bootstrapServers: {{ required "kafka.bootstrapServers is required when kafka.strimzi.enabled is false" $k.bootstrapServers }}
tls: {{ $k.tls.enabled }}
caSecret: {{ $k.tls.caSecret | quote }}
caKey: {{ $k.tls.caKey }}
mechanism: {{ $k.sasl.mechanism | quote }}
username: {{ $k.sasl.username | quote }}
passwordSecret: {{ $k.sasl.existingSecret | quote }}
passwordKey: {{ $k.sasl.passwordKey }}
{{- if and $k.sasl.mechanism (or (not $k.sasl.username) (not $k.sasl.existingSecret)) }}
{{- fail "kafka.sasl.mechanism needs kafka.sasl.username and kafka.sasl.existingSecret (the password never goes in values)" }}
{{- end }}
{{- if and (eq $k.sasl.mechanism "plain") (not $k.tls.enabled) }}
{{- fail "kafka.sasl.mechanism plain needs kafka.tls.enabled: the password would cross the network in clear (the processes refuse it in production)" }}
{{- end }}
{{- if and $k.tls.caSecret (not $k.tls.enabled) }}
{{- fail "kafka.tls.caSecret is set but kafka.tls.enabled is false" }}
{{- end }}
{{- end -}}
{{- end -}}

{{/*
The environment every process shares. Only configOptions of src/config.ts; secrets come from
Secrets (JWT_SECRET, MONGO_URL) or files mounted from them (the SASL password, the CA).
*/}}
{{- define "food-ordering.ownedVariables" -}}
[NODE_ENV, HOST, PORT, HEALTH_PORT, SHUTDOWN_TIMEOUT_MS, JWT_SECRET, MONGO_URL, SMTP_URL, KAFKA_BROKERS, KAFKA_SSL, KAFKA_SSL_CA_FILE, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, KAFKA_SASL_PASSWORD_FILE, KAFKA_NAMESPACE, KAFKA_TOPIC_PARTITIONS, KAFKA_REPLICATION_FACTOR, KAFKA_MIN_INSYNC_REPLICAS, KAFKA_PORT, MONGO_PORT, LOCAL_STATE_DIR, MAILPIT_SMTP_PORT, MAILPIT_UI_PORT]
{{- end -}}

{{- define "food-ordering.env" -}}
{{- $kafka := fromYaml (include "food-ordering.kafka" .) -}}
{{- $owned := fromYamlArray (include "food-ordering.ownedVariables" .) -}}
- name: NODE_ENV
  value: production
- name: HOST
  value: 0.0.0.0
- name: SHUTDOWN_TIMEOUT_MS
  value: {{ .Values.shutdown.timeoutMs | int | quote }}
- name: JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ required "jwt.existingSecret is required" .Values.jwt.existingSecret }}
      key: {{ .Values.jwt.key }}
- name: MONGO_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "mongodb.existingSecret is required" .Values.mongodb.existingSecret }}
      key: {{ .Values.mongodb.urlKey }}
- name: KAFKA_BROKERS
  value: {{ $kafka.bootstrapServers | quote }}
- name: KAFKA_TOPIC_PARTITIONS
  value: {{ .Values.kafka.topicPartitions | int | quote }}
- name: KAFKA_REPLICATION_FACTOR
  value: {{ .Values.kafka.replicationFactor | int | quote }}
- name: KAFKA_MIN_INSYNC_REPLICAS
  value: {{ .Values.kafka.minInsyncReplicas | int | quote }}
{{- with .Values.kafka.namespace }}
- name: KAFKA_NAMESPACE
  value: {{ . | quote }}
{{- end }}
{{- if $kafka.tls }}
- name: KAFKA_SSL
  value: "true"
{{- if $kafka.caSecret }}
- name: KAFKA_SSL_CA_FILE
  value: {{ printf "/etc/food-ordering/kafka-ca/%s" $kafka.caKey | quote }}
{{- end }}
{{- end }}
{{- if $kafka.mechanism }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $kafka.mechanism | quote }}
- name: KAFKA_SASL_USERNAME
  value: {{ $kafka.username | quote }}
- name: KAFKA_SASL_PASSWORD_FILE
  value: {{ printf "/etc/food-ordering/kafka-sasl/%s" $kafka.passwordKey | quote }}
{{- end }}
{{- range $name, $value := .Values.config }}
{{- if has $name $owned }}
{{- fail (printf "config.%s is set by the chart itself (or is a secret): use its own value instead" $name) }}
{{- end }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* Volumes for the Kafka CA and SASL password files, and a writable /tmp. */}}
{{- define "food-ordering.volumes" -}}
{{- $kafka := fromYaml (include "food-ordering.kafka" .) -}}
- name: tmp
  emptyDir: {}
{{- if and $kafka.tls $kafka.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ $kafka.caSecret }}
    items: [{ key: {{ $kafka.caKey }}, path: {{ $kafka.caKey }} }]
{{- end }}
{{- if $kafka.mechanism }}
- name: kafka-sasl
  secret:
    secretName: {{ $kafka.passwordSecret }}
    items: [{ key: {{ $kafka.passwordKey }}, path: {{ $kafka.passwordKey }} }]
{{- end }}
{{- end -}}

{{- define "food-ordering.volumeMounts" -}}
{{- $kafka := fromYaml (include "food-ordering.kafka" .) -}}
- name: tmp
  mountPath: /tmp
{{- if and $kafka.tls $kafka.caSecret }}
- name: kafka-ca
  mountPath: /etc/food-ordering/kafka-ca
  readOnly: true
{{- end }}
{{- if $kafka.mechanism }}
- name: kafka-sasl
  mountPath: /etc/food-ordering/kafka-sasl
  readOnly: true
{{- end }}
{{- end -}}

{{/*
The pod settings every process shares. terminationGracePeriodSeconds: the shutdown bound
(SHUTDOWN_TIMEOUT_MS, rounded up) plus a margin, so a process finishing its work is never killed.
*/}}
{{- define "food-ordering.podSpec" -}}
serviceAccountName: {{ include "food-ordering.serviceAccountName" . }}
automountServiceAccountToken: false
terminationGracePeriodSeconds: {{ add (div (add (int .Values.shutdown.timeoutMs) 999) 1000) (int .Values.shutdown.graceMarginSeconds) }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  {{- include "food-ordering.volumes" . | nindent 2 }}
{{- end -}}

{{- define "food-ordering.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* KEDA's Kafka scaler names SASL mechanisms its own way. */}}
{{- define "food-ordering.kedaSasl" -}}
{{- get (dict "plain" "plaintext" "scram-sha-256" "scram_sha256" "scram-sha-512" "scram_sha512") . -}}
{{- end -}}

#!/usr/bin/env bash
# Refreshes the CRDs that kube-validate checks the chart's custom resources against, from the
# registries' own packages (never written by hand). Run it after changing a version below, and
# commit what it writes; the test run only reads the committed files (it needs no network).
#
#   KEDA (ScaledObject, TriggerAuthentication): the Go module github.com/kedacore/keda/v2 from
#     the Go module proxy carries its CRDs in config/crd/bases/; copied as they are.
#   Strimzi (Kafka, KafkaNodePool, KafkaTopic, KafkaUser): Maven Central's io.strimzi:api jar
#     holds the API classes but not the YAML, which Strimzi's build generates from those classes
#     with io.strimzi:crd-generator. Both are fetched at the same version (pom.xml beside this
#     file) and the generator is run with the arguments of Strimzi's own build (the exec
#     `generate-crd-co-install-v1` in the api jar's pom.xml), so the files are the ones Strimzi
#     releases as packaging/install/cluster-operator/04x-Crd-*.yaml. Needs Java 21 or newer
#     (the classes are Java 21): JAVA_HOME, else the Temurin 25 found on this kind of machine.
#
# Usage: deploy/schemas/fetch.sh
set -euo pipefail
cd "$(dirname "$0")"

KEDA_VERSION=v2.21.0
STRIMZI_VERSION=$(sed -n 's:.*<strimzi.version>\(.*\)</strimzi.version>.*:\1:p' pom.xml)

export GOFLAGS=-mod=mod GOTOOLCHAIN=local
keda_dir=$(go mod download -json "github.com/kedacore/keda/v2@${KEDA_VERSION}" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[ -d "$keda_dir/config/crd/bases" ] || { echo "no config/crd/bases in $keda_dir" >&2; exit 1; }
rm -rf keda && mkdir keda
for crd in keda.sh_scaledobjects.yaml keda.sh_triggerauthentications.yaml; do
  cp "$keda_dir/config/crd/bases/$crd" "keda/$crd"
  chmod 644 "keda/$crd"
done

java=java
if [ -n "${JAVA_HOME:-}" ]; then java="$JAVA_HOME/bin/java"; fi
if ! "$java" -version 2>&1 | grep -Eq 'version "(2[1-9]|[3-9][0-9])'; then
  java=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
  [ -x "$java" ] || { echo "Strimzi's CRD generator needs Java 21 or newer: set JAVA_HOME to one" >&2; exit 1; }
fi
classpath=$(mktemp)
trap 'rm -f "$classpath"' EXIT
mvn -q -B -f pom.xml dependency:build-classpath -Dmdep.outputFile="$classpath"
rm -rf strimzi && mkdir strimzi
model=io.strimzi.api.kafka.model
"$java" -cp "$(cat "$classpath")" io.strimzi.crdgenerator.CrdGenerator \
  --label app:strimzi --label strimzi.io/crd-install:true --target-kube 1.16+ \
  --crd-api-version v1 --api-versions v1 --storage-version v1 --yaml \
  "$model.kafka.Kafka=strimzi/040-Crd-kafka.yaml" \
  "$model.topic.KafkaTopic=strimzi/043-Crd-kafkatopic.yaml" \
  "$model.user.KafkaUser=strimzi/044-Crd-kafkauser.yaml" \
  "$model.nodepool.KafkaNodePool=strimzi/045-Crd-kafkanodepool.yaml"

cat > VERSIONS <<EOF
# Written by fetch.sh: where each CRD in this folder comes from.
keda     github.com/kedacore/keda/v2 ${KEDA_VERSION} (Go module proxy), config/crd/bases/
strimzi  io.strimzi:api ${STRIMZI_VERSION} + io.strimzi:crd-generator ${STRIMZI_VERSION} (Maven Central), generated as Strimzi's build does
EOF
echo "CRDs written: KEDA ${KEDA_VERSION}, Strimzi ${STRIMZI_VERSION}" >&2

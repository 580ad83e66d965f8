// Command kube-validate checks Kubernetes manifests (what `helm template` prints) offline and
// strictly, as an API server of the pinned version would take them, and refuses what it would
// silently drop:
//
//   - built-in kinds (Deployment, Service, NetworkPolicy, ...) are decoded into the k8s.io/api
//     types of this module's Kubernetes version in strict mode: an unknown or misspelled field,
//     a duplicate field or a value of the wrong type fails (an API server would prune the
//     unknown field and go on, so a typo in a probe or a limit would vanish unnoticed);
//   - custom resources (KEDA's ScaledObject, Strimzi's Kafka, KafkaTopic, ...) are validated
//     against the openAPIV3Schema of their CRD, read from the files given with -crds, with every
//     object schema closed (additionalProperties: false) unless the CRD itself keeps unknown
//     fields (x-kubernetes-preserve-unknown-fields): the schema checks of the API server plus
//     the strict field validation `kubectl apply --validate=strict` asks of it. CEL rules
//     (x-kubernetes-validations) are not evaluated;
//   - every object's metadata is decoded strictly into ObjectMeta, its name must be a DNS-1123
//     subdomain and its labels valid;
//   - a kind that is neither built in nor given by a CRD fails.
//
// Usage: kube-validate -crds DIR [FILE ...]   (no FILE: standard input)
//
//	kube-validate -version                       prints the Kubernetes version of the types
//
// Prints one line per object (`ok` or `invalid` with the reasons); exits 1 if any object is
// invalid, 2 on a usage or read error.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

func main() {
	crdDir := flag.String("crds", "", "folder of CustomResourceDefinition YAML files (searched recursively)")
	version := flag.Bool("version", false, "print the Kubernetes version whose API types this build validates against")
	flag.Parse()
	if *version {
		fmt.Println(kubernetesVersion())
		return
	}
	crds, err := loadCRDs(*crdDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kube-validate:", err)
		os.Exit(2)
	}
	inputs := flag.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	v := validator{crds: crds, decoder: serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()}
	invalid, total := 0, 0
	for _, input := range inputs {
		docs, err := readDocuments(input)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kube-validate:", err)
			os.Exit(2)
		}
		for _, doc := range docs {
			total++
			id, problems := v.validate(doc)
			if len(problems) == 0 {
				fmt.Printf("ok       %s\n", id)
				continue
			}
			invalid++
			fmt.Printf("invalid  %s\n", id)
			for _, p := range problems {
				fmt.Printf("         - %s\n", strings.ReplaceAll(p, "\n", "\n           "))
			}
		}
	}
	fmt.Printf("%d objects, %d invalid (Kubernetes %s; %d CRD kinds)\n", total, invalid, kubernetesVersion(), len(crds))
	if invalid > 0 {
		os.Exit(1)
	}
}

// kubernetesVersion is that of the k8s.io/api module this binary was built with: v0.X.Y is
// Kubernetes 1.X.Y.
func kubernetesVersion() string {
	info, ok := debug.ReadBuildInfo()
	if ok {
		for _, dep := range info.Deps {
			if dep.Path == "k8s.io/api" {
				if rest, found := strings.CutPrefix(dep.Version, "v0."); found {
					return "v1." + rest
				}
			}
		}
	}
	return "unknown"
}

// readDocuments splits a multi-document YAML stream, dropping empty documents (Helm prints a
// `# Source:` comment before each one, and a template may render to nothing).
func readDocuments(input string) ([][]byte, error) {
	var r io.Reader = os.Stdin
	if input != "-" {
		f, err := os.Open(input)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var docs [][]byte
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", input, err)
		}
		var content any
		if err := yaml.Unmarshal(doc, &content); err != nil {
			return nil, fmt.Errorf("%s: not YAML: %w", input, err)
		}
		if content != nil {
			docs = append(docs, doc)
		}
	}
}

type validator struct {
	crds    map[schema.GroupVersionKind]*crdSchema
	decoder runtime.Decoder
}

// validate returns a name for the object (apiVersion kind name) and what is wrong with it.
func (v validator) validate(doc []byte) (string, []string) {
	var head struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   map[string]any `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return "(unreadable)", []string{err.Error()}
	}
	name, _ := head.Metadata["name"].(string)
	id := strings.TrimSpace(fmt.Sprintf("%s %s %s", head.APIVersion, head.Kind, name))
	if head.APIVersion == "" || head.Kind == "" {
		return id, []string{"apiVersion and kind are required"}
	}
	problems := metadataProblems(head.Metadata)
	gvk := schema.FromAPIVersionAndKind(head.APIVersion, head.Kind)
	if crd, ok := v.crds[gvk]; ok {
		return id, append(problems, crd.validate(doc)...)
	}
	if _, _, err := v.decoder.Decode(doc, nil, nil); err != nil {
		if runtime.IsNotRegisteredError(err) {
			return id, append(problems, fmt.Sprintf("%s is not a kind of Kubernetes %s, and no CRD in -crds defines it", gvk, kubernetesVersion()))
		}
		return id, append(problems, err.Error())
	}
	return id, problems
}

// metadataProblems decodes metadata strictly into ObjectMeta (a misspelled `lables` fails)
// and checks the name and labels as the API server would.
func metadataProblems(metadata map[string]any) []string {
	if metadata == nil {
		return []string{"metadata is required"}
	}
	raw, err := yaml.Marshal(metadata)
	if err != nil {
		return []string{err.Error()}
	}
	var meta metav1.ObjectMeta
	if err := yaml.UnmarshalStrict(raw, &meta); err != nil {
		return []string{"metadata: " + err.Error()}
	}
	var problems []string
	if meta.Name == "" {
		problems = append(problems, "metadata.name is required")
	}
	for _, p := range validation.IsDNS1123Subdomain(meta.Name) {
		problems = append(problems, "metadata.name: "+p)
	}
	for _, e := range metavalidation.ValidateLabels(meta.Labels, field.NewPath("metadata", "labels")) {
		problems = append(problems, e.Error())
	}
	sort.Strings(problems)
	return problems
}

// loadCRDs reads every CustomResourceDefinition under dir and compiles the schema of each of
// its served versions.
func loadCRDs(dir string) (map[schema.GroupVersionKind]*crdSchema, error) {
	crds := map[schema.GroupVersionKind]*crdSchema{}
	if dir == "" {
		return crds, nil
	}
	err := filepath.WalkDir(dir, func(path string, entry os.DirEntry, err error) error {
		if err != nil || entry.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		docs, err := readDocuments(path)
		if err != nil {
			return err
		}
		for _, doc := range docs {
			var crd customResourceDefinition
			if err := yaml.Unmarshal(doc, &crd); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if crd.Kind != "CustomResourceDefinition" {
				continue
			}
			for _, version := range crd.Spec.Versions {
				if !version.Served || version.Schema.OpenAPIV3Schema == nil {
					continue
				}
				gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: version.Name, Kind: crd.Spec.Names.Kind}
				compiled, err := compileCRDSchema(gvk, version.Schema.OpenAPIV3Schema)
				if err != nil {
					return fmt.Errorf("%s: %s: %w", path, gvk, err)
				}
				crds[gvk] = compiled
			}
		}
		return nil
	})
	return crds, err
}

// customResourceDefinition is the part of an apiextensions.k8s.io/v1 CRD read here.
type customResourceDefinition struct {
	Kind string `json:"kind"`
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind string `json:"kind"`
		} `json:"names"`
		Versions []struct {
			Name   string `json:"name"`
			Served bool   `json:"served"`
			Schema struct {
				OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

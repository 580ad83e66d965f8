package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// crdSchema is one served version of a CRD, compiled for validation.
type crdSchema struct {
	schema *jsonschema.Schema
}

// compileCRDSchema turns a CRD version's openAPIV3Schema (OpenAPI 3.0's schema dialect with
// Kubernetes' extensions) into a JSON Schema that validates as an API server would, strictly:
//
//   - an object schema that neither lists additionalProperties nor keeps unknown fields
//     (x-kubernetes-preserve-unknown-fields) is closed: the API server prunes such fields, and
//     strict field validation refuses them; here they fail;
//   - x-kubernetes-int-or-string accepts an integer or a string;
//   - nullable: true accepts null as well;
//   - the root's metadata is left to metadataProblems (the CRD describes it only as an object).
//
// OpenAPI 3.0 keeps draft 4's meaning of exclusiveMinimum/Maximum (booleans), hence Draft4.
func compileCRDSchema(gvk schema.GroupVersionKind, openAPI map[string]any) (*crdSchema, error) {
	root := kubernetesToJSONSchema(openAPI)
	if props, ok := root["properties"].(map[string]any); ok {
		props["metadata"] = map[string]any{"type": "object"}
	}
	raw, err := json.Marshal(root)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("crd:///%s/%s/%s.json", gvk.Group, gvk.Version, gvk.Kind)
	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft4)
	if err := compiler.AddResource(url, doc); err != nil {
		return nil, err
	}
	compiled, err := compiler.Compile(url)
	if err != nil {
		return nil, err
	}
	return &crdSchema{schema: compiled}, nil
}

// kubernetesToJSONSchema rewrites one schema node and everything below it (a copy).
func kubernetesToJSONSchema(node map[string]any) map[string]any {
	out := map[string]any{}
	for key, value := range node {
		switch key {
		case "properties", "patternProperties", "definitions":
			children := map[string]any{}
			for name, child := range value.(map[string]any) {
				children[name] = kubernetesToJSONSchema(child.(map[string]any))
			}
			out[key] = children
		case "items", "additionalProperties", "not":
			if child, ok := value.(map[string]any); ok {
				out[key] = kubernetesToJSONSchema(child)
			} else {
				out[key] = value
			}
		case "allOf", "anyOf", "oneOf":
			list := []any{}
			for _, child := range value.([]any) {
				list = append(list, kubernetesToJSONSchema(child.(map[string]any)))
			}
			out[key] = list
		default:
			out[key] = value
		}
	}
	if out["x-kubernetes-int-or-string"] == true {
		delete(out, "type")
		out["anyOf"] = append(asList(out["anyOf"]), map[string]any{"type": "integer"}, map[string]any{"type": "string"})
	}
	_, hasProperties := out["properties"]
	_, hasAdditional := out["additionalProperties"]
	if (out["type"] == "object" || hasProperties) && !hasAdditional && out["x-kubernetes-preserve-unknown-fields"] != true {
		out["additionalProperties"] = false
	}
	if out["nullable"] == true {
		if t, ok := out["type"].(string); ok {
			out["type"] = []any{t, "null"}
		}
	}
	return out
}

func asList(v any) []any {
	if list, ok := v.([]any); ok {
		return list
	}
	return nil
}

// validate checks one custom resource (its YAML document) against the schema.
func (c *crdSchema) validate(doc []byte) []string {
	raw, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return []string{err.Error()}
	}
	instance, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return []string{err.Error()}
	}
	if err := c.schema.Validate(instance); err != nil {
		return []string{err.Error()}
	}
	return nil
}

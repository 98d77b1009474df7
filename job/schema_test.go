package job

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/weir-etl/weir/connect"
)

// validate checks v against the subset of JSON Schema that schema.json
// uses; it returns the first violation with its path.
func validate(root, s map[string]any, v any, path string) error {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/$defs/")
		return validate(root, root["$defs"].(map[string]any)[name].(map[string]any), v, path)
	}
	if alts, ok := s["oneOf"].([]any); ok {
		n := 0
		for _, a := range alts {
			if validate(root, a.(map[string]any), v, path) == nil {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("%s: matches %d of oneOf", path, n)
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		return fmt.Errorf("%s: %v not in enum", path, v)
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: not an object", path)
		}
		props, _ := s["properties"].(map[string]any)
		for _, r := range asSlice(s["required"]) {
			if _, ok := m[r.(string)]; !ok {
				return fmt.Errorf("%s: %s is required", path, r)
			}
		}
		if min, ok := s["minProperties"].(float64); ok && float64(len(m)) < min {
			return fmt.Errorf("%s: too few properties", path)
		}
		for k, e := range m {
			if ps, ok := props[k].(map[string]any); ok {
				if err := validate(root, ps, e, path+"."+k); err != nil {
					return err
				}
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					return fmt.Errorf("%s: %s is not allowed", path, k)
				}
			case map[string]any:
				if err := validate(root, ap, e, path+"."+k); err != nil {
					return err
				}
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: not an array", path)
		}
		if min, ok := s["minItems"].(float64); ok && float64(len(a)) < min {
			return fmt.Errorf("%s: too few items", path)
		}
		for i, e := range a {
			if err := validate(root, s["items"].(map[string]any), e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: %v is not a string", path, v)
		}
		if min, ok := s["minLength"].(float64); ok && float64(len(str)) < min {
			return fmt.Errorf("%s: too short", path)
		}
	case "integer":
		var n float64
		switch x := v.(type) {
		case uint64:
			n = float64(x)
		case int64:
			n = float64(x)
		default:
			return fmt.Errorf("%s: %v is not an integer", path, v)
		}
		if min, ok := s["minimum"].(float64); ok && n < min {
			return fmt.Errorf("%s: below the minimum", path)
		}
	}
	return nil
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func loadSchema(t *testing.T) map[string]any {
	var root map[string]any
	if err := json.Unmarshal(Schema(), &root); err != nil {
		t.Fatal(err)
	}
	if root["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema %v", root["$schema"])
	}
	return root
}

// The users job is valid under the schema, and the schema rejects what
// the parser rejects: an unknown key, a bad type, a bad option.
func TestSchemaValidatesJobs(t *testing.T) {
	root := loadSchema(t)
	data, err := os.ReadFile("../examples/users/job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if err := validate(root, root, doc, "$"); err != nil {
		t.Fatalf("examples/users/job.yaml: %v", err)
	}
	for _, bad := range []string{
		"tables: [{name: t, columns: {a: text}}]\nsorce: x\n",
		"tables: [{name: t, columns: {a: txt}}]\n",
		"tables: [{name: t, columns: {a: {type: text, exp: b}}}]\n",
		"tables: [{name: t, columns: {a: {expr: b}}}]\n",
		"options: {on_error: ignore}\ntables: [{name: t, columns: {a: text}}]\n",
		"options: {batch: -1}\ntables: [{name: t, columns: {a: text}}]\n",
		"tables: []\n",
	} {
		var doc any
		if err := yaml.Unmarshal([]byte(bad), &doc); err != nil {
			t.Fatal(err)
		}
		if validate(root, root, doc, "$") == nil {
			t.Errorf("the schema accepts %q", bad)
		}
		if _, err := Parse("bad.yaml", []byte(bad)); err == nil {
			t.Errorf("Parse accepts %q", bad)
		}
	}
}

// The schema lists the keys the parser knows, level by level, and the
// type names ParseType reads.
func TestSchemaMatchesParser(t *testing.T) {
	root := loadSchema(t)
	defs := root["$defs"].(map[string]any)
	props := func(s any) []string {
		var keys []string
		for k := range s.(map[string]any)["properties"].(map[string]any) {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return keys
	}
	sorted := func(s []string) []string { return slices.Sorted(slices.Values(s)) }
	column := defs["column"].(map[string]any)["oneOf"].([]any)[1]
	for _, c := range []struct {
		name   string
		schema any
		parser []string
	}{
		{"top", root, topKeys},
		{"options", root["properties"].(map[string]any)["options"], optionKeys},
		{"table", defs["table"], tableKeys},
		{"column", column, columnKeys},
	} {
		if got := props(c.schema); !slices.Equal(got, sorted(c.parser)) {
			t.Errorf("%s: schema keys %v, parser keys %v", c.name, got, sorted(c.parser))
		}
	}
	enum := defs["type"].(map[string]any)["enum"].([]any)
	for _, e := range enum {
		if _, err := connect.ParseType(e.(string)); err != nil {
			t.Errorf("schema type %q: %v", e, err)
		}
	}
	for ty := connect.TypeText; ty <= connect.TypeBytes; ty++ {
		if !slices.Contains(enum, any(ty.String())) {
			t.Errorf("schema lacks type %s", ty)
		}
	}
}

package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/weir-etl/weir/internal/suggest"
)

// readYAML decodes the YAML file at path into v, strictly: a key v does not
// have is an error. Every error names the file, line and column, and an
// unknown key names the nearest valid one from known. It returns the file's
// contents, for yamlAt.
func readYAML(path string, v any, known []string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return data, decodeYAML(path, data, v, known)
}

// yamlAt returns "path:line:col" for the node at a YAML path
// ("$.columns[2].type") of data, or just path if it cannot be found.
func yamlAt(path string, data []byte, at string) string {
	p, err := yaml.PathString(at)
	if err != nil {
		return path
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return path
	}
	n, err := p.FilterFile(f)
	if err != nil || n == nil || n.GetToken() == nil {
		return path
	}
	pos := n.GetToken().Position
	return fmt.Sprintf("%s:%d:%d", path, pos.Line, pos.Column)
}

func decodeYAML(path string, data []byte, v any, known []string) error {
	err := yaml.UnmarshalWithOptions(data, v, yaml.DisallowUnknownField())
	if err == nil {
		return nil
	}
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tk := ye.GetToken()
	msg := ye.GetMessage()
	var uf *yaml.UnknownFieldError
	if errors.As(err, &uf) {
		if m := unknownField.FindStringSubmatch(msg); m != nil {
			if near := suggest.Nearest(m[1], known); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
		}
	}
	return fmt.Errorf("%s:%d:%d: %s", path, tk.Position.Line, tk.Position.Column, msg)
}

var unknownField = regexp.MustCompile(`unknown field "([^"]*)"`)

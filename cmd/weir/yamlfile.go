package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
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
			if near := nearest(m[1], known); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
		}
	}
	return fmt.Errorf("%s:%d:%d: %s", path, tk.Position.Line, tk.Position.Column, msg)
}

var unknownField = regexp.MustCompile(`unknown field "([^"]*)"`)

// nearest returns the name in known closest to s by edit distance, if it is
// close enough to be a typo.
func nearest(s string, known []string) string {
	best, bestD := "", len(s)/2+2
	for _, k := range known {
		if d := editDistance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

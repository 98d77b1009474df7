package job

import (
	"errors"
	"fmt"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// yamlError turns a YAML library error into an [*Error] at its token.
func yamlError(file string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		e.File = file
		return e
	}
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		return errorAt(file, ye.GetToken(), ye.GetMessage())
	}
	return &Error{File: file, Msg: err.Error()}
}

func errorAt(file string, tk *token.Token, msg string) *Error {
	return &Error{File: file, Line: tk.Position.Line, Column: tk.Position.Column, Msg: msg}
}

// yamlNodeError is an error at n whose file yamlError fills in.
func yamlNodeError(n ast.Node, msg string) error {
	return errorAt("", n.GetToken(), msg)
}

// unwrap returns the node a tag or an anchor decorates.
func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		default:
			return n
		}
	}
}

// mappingOf returns n as a mapping, or nil.
func mappingOf(n ast.Node) *ast.MappingNode {
	switch v := unwrap(n).(type) {
	case *ast.MappingNode:
		return v
	case *ast.MappingValueNode:
		return &ast.MappingNode{BaseNode: v.BaseNode, Values: []*ast.MappingValueNode{v}}
	}
	return nil
}

// valueOf returns the value of key k of mapping n, or nil.
func valueOf(n ast.Node, k string) ast.Node {
	m := mappingOf(n)
	if m == nil {
		return nil
	}
	for _, kv := range m.Values {
		if keyString(kv.Key) == k {
			return kv.Value
		}
	}
	return nil
}

func keyString(k ast.MapKeyNode) string {
	if s, ok := k.(ast.ScalarNode); ok {
		return fmt.Sprint(s.GetValue())
	}
	return k.String()
}

// nearest returns the name in known closest to s by edit distance, if it
// is close enough to be a typo.
func nearest(s string, known []string) string {
	best, bestD := "", len(s)/2+2
	for _, k := range known {
		if d := editDistance(s, k); d < bestD || d == bestD && best != "" && k < best {
			best, bestD = k, d
		}
	}
	if bestD >= len(s)/2+2 {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

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

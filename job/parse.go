package job

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	exprparser "github.com/expr-lang/expr/parser"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/weir-etl/weir/connect"

	"github.com/weir-etl/weir/internal/suggest"
)

// The keys each mapping of a job file may hold. The JSON Schema
// (schema.json) lists the same; a test keeps them in step.
var (
	topKeys    = []string{"source", "target", "options", "tables"}
	optionKeys = []string{"batch", "workers", "load_concurrency", "on_error", "reject", "max_errors", "sample", "if_exists"}
	tableKeys  = []string{"name", "key", "filter", "unnest", "columns"}
	columnKeys = []string{"type", "expr"}
)

// ReadFile reads and parses the job file at path; see [Parse].
func ReadFile(path string) (*Job, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	return Parse(path, data)
}

// Parse parses a job file, data, read from path (used in errors only).
// It checks everything it can without the source: YAML syntax, unknown
// keys (naming the nearest valid one), option values, type names,
// expression syntax, unnest paths, duplicate tables and columns, and key
// columns that are not columns. Every error reads "FILE:LINE:COL:
// message"; when there are several they are joined (errors.Join), each
// an [*Error]. Whether the expressions' names are source columns is
// checked by [Job.Compile].
func Parse(path string, data []byte) (*Job, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(path, err)
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil, &Error{File: path, Msg: "empty job file: want source, target, options and tables"}
	}
	if len(f.Docs) > 1 {
		return nil, errorAt(path, f.Docs[1].GetToken(), "a job file holds one YAML document, found more")
	}
	p := &parse{file: path, pos: positions{}}
	body := f.Docs[0].Body
	p.walk(body, "")
	p.checkKeys(body)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	var raw rawJob
	if err := yaml.NodeToValue(body, &raw, yaml.DisallowUnknownField()); err != nil {
		return nil, yamlError(path, err)
	}
	j := &Job{File: path, Source: raw.Source, Target: raw.Target, Options: raw.Options, pos: p.pos}
	p.options(&j.Options)
	j.tables = p.tables(raw.Tables)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return j, nil
}

// rawJob is the file as the YAML decoder reads it.
type rawJob struct {
	Source  string     `yaml:"source"`
	Target  string     `yaml:"target"`
	Options Options    `yaml:"options"`
	Tables  []rawTable `yaml:"tables"`
}

type rawTable struct {
	Name    string     `yaml:"name"`
	Key     []string   `yaml:"key"`
	Filter  string     `yaml:"filter"`
	Unnest  string     `yaml:"unnest"`
	Columns rawColumns `yaml:"columns"`
}

// rawColumns is a table's columns: mapping, in file order, which a Go map
// would lose, so it reads the YAML node itself.
type rawColumns []rawColumn

type rawColumn struct {
	name, typ, expr string
}

// UnmarshalYAML reads `name: type` and `name: {type: T, expr: E}` pairs.
func (c *rawColumns) UnmarshalYAML(n ast.Node) error {
	m := mappingOf(n)
	if m == nil {
		return yamlNodeError(n, "columns must be a mapping of column name to type or {type, expr}")
	}
	for _, kv := range m.Values {
		col := rawColumn{name: keyString(kv.Key)}
		switch v := kv.Value.(type) {
		case *ast.StringNode:
			col.typ = v.Value
		default:
			if mappingOf(v) == nil {
				return yamlNodeError(kv.Value, fmt.Sprintf("column %q: want a type name or {type: T, expr: E}", col.name))
			}
			var spec struct {
				Type string `yaml:"type"`
				Expr string `yaml:"expr"`
			}
			if err := yaml.NodeToValue(v, &spec, yaml.DisallowUnknownField()); err != nil {
				return err
			}
			col.typ, col.expr = spec.Type, spec.Expr
		}
		*c = append(*c, col)
	}
	return nil
}

// positions maps a node's path in the file ("tables[1].columns.x.expr")
// to where it is.
type positions map[string]*token.Position

type parse struct {
	file string
	pos  positions
	errs []error
}

// at records an error at the node of path (or at the start of the file).
func (p *parse) at(path, format string, args ...any) {
	p.errs = append(p.errs, p.pos.error(p.file, path, format, args...))
}

func (ps positions) error(file, path, format string, args ...any) *Error {
	e := &Error{File: file, Msg: fmt.Sprintf(format, args...)}
	// The nearest recorded ancestor when the node itself is absent (a
	// default): "tables[1].columns.x.expr" → "tables[1].columns.x".
	for {
		if pos, ok := ps[path]; ok {
			e.Line, e.Column = pos.Line, pos.Column
			return e
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return e
		}
		path = path[:i]
	}
}

// walk records the position of every mapping value and sequence entry
// under n.
func (p *parse) walk(n ast.Node, path string) {
	if n == nil {
		return
	}
	if path != "" {
		p.pos[path] = n.GetToken().Position
	}
	if m := mappingOf(n); m != nil {
		for _, kv := range m.Values {
			k := keyString(kv.Key)
			if path != "" {
				k = path + "." + k
			}
			p.pos[k+"#key"] = kv.Key.GetToken().Position
			p.walk(kv.Value, k)
		}
		return
	}
	if s, ok := unwrap(n).(*ast.SequenceNode); ok {
		for i, v := range s.Values {
			p.walk(v, path+"["+strconv.Itoa(i)+"]")
		}
	}
}

// checkKeys reports every key that is not a job file's, with the nearest
// valid one at its level.
func (p *parse) checkKeys(body ast.Node) {
	p.keys(body, topKeys, "the job")
	if opts := valueOf(body, "options"); opts != nil {
		p.keys(opts, optionKeys, "options")
	}
	tables, _ := unwrap(valueOf(body, "tables")).(*ast.SequenceNode)
	if tables == nil {
		return
	}
	for _, t := range tables.Values {
		p.keys(t, tableKeys, "a table")
		cols := mappingOf(valueOf(t, "columns"))
		if cols == nil {
			continue
		}
		for _, kv := range cols.Values {
			if mappingOf(kv.Value) != nil {
				p.keys(kv.Value, columnKeys, "a column")
			}
		}
	}
}

func (p *parse) keys(n ast.Node, known []string, what string) {
	m := mappingOf(n)
	if m == nil {
		return
	}
	for _, kv := range m.Values {
		k := keyString(kv.Key)
		if slices.Contains(known, k) {
			continue
		}
		msg := fmt.Sprintf("unknown key %q in %s", k, what)
		if near := suggest.Nearest(k, known); near != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", near)
		} else {
			msg += fmt.Sprintf(" (want one of %s)", strings.Join(known, ", "))
		}
		p.errs = append(p.errs, errorAt(p.file, kv.Key.GetToken(), msg))
	}
}

func (p *parse) options(o *Options) {
	for _, f := range []struct {
		key string
		v   int64
	}{{"batch", int64(o.Batch)}, {"workers", int64(o.Workers)}, {"load_concurrency", int64(o.LoadConcurrency)},
		{"max_errors", o.MaxErrors}, {"sample", int64(o.Sample)}} {
		if f.v < 0 {
			p.at("options."+f.key, "options.%s must be >= 0, got %d", f.key, f.v)
		}
	}
	if o.Sample == 0 {
		o.Sample = 1000
	}
	if o.OnError == "" {
		o.OnError = onErrorModes[0]
	}
	if o.IfExists == "" {
		o.IfExists = ifExistsModes[0]
	}
	if !slices.Contains(onErrorModes, o.OnError) {
		p.at("options.on_error", "options.on_error must be one of %s, got %q", strings.Join(onErrorModes, ", "), o.OnError)
	}
	if !slices.Contains(ifExistsModes, o.IfExists) {
		p.at("options.if_exists", "options.if_exists must be one of %s, got %q", strings.Join(ifExistsModes, ", "), o.IfExists)
	}
}

func (p *parse) tables(raw []rawTable) []TableSpec {
	if len(raw) == 0 {
		p.at("tables", "a job needs at least one table under tables:")
	}
	out := make([]TableSpec, len(raw))
	seen := map[string]int{}
	for i, rt := range raw {
		at := fmt.Sprintf("tables[%d]", i)
		t := TableSpec{Name: rt.Name, Key: rt.Key, Filter: rt.Filter, Unnest: rt.Unnest}
		switch prev, dup := seen[rt.Name]; {
		case rt.Name == "":
			p.at(at+".name", "table %d has no name", i+1)
		case dup:
			p.at(at+".name", "table %q is declared twice (first as table %d)", rt.Name, prev)
		}
		seen[rt.Name] = i + 1
		if len(rt.Columns) == 0 {
			where := at + ".columns"
			if _, ok := p.pos[where]; !ok {
				where = at + ".name#key"
			}
			p.at(where, "table %q has no columns", rt.Name)
		}
		names := map[string]bool{}
		for _, rc := range rt.Columns {
			cat := at + ".columns." + rc.name
			c := ColumnSpec{Name: rc.name, Expr: rc.expr}
			if c.Expr == "" {
				c.Expr = rc.name // the source field of the same name
			}
			switch {
			case rc.name == "":
				p.at(cat+"#key", "table %q: a column has no name", rt.Name)
			case names[rc.name]:
				p.at(cat+"#key", "table %q: column %q is declared twice", rt.Name, rc.name)
			}
			names[rc.name] = true
			typ, err := connect.ParseType(rc.typ)
			if rc.typ == "" {
				err = errors.New("no type")
			}
			if err != nil {
				p.at(cat+".type", "table %q, column %q: %v", rt.Name, rc.name, err)
			}
			c.Type = typ
			if _, err := exprparser.Parse(c.Expr); err != nil {
				p.at(cat+".expr", "table %q, column %q: expression %q: %s", rt.Name, rc.name, c.Expr, exprMessage(err))
			}
			t.Columns = append(t.Columns, c)
		}
		if t.Filter != "" {
			if _, err := exprparser.Parse(t.Filter); err != nil {
				p.at(at+".filter", "table %q: filter %q: %s", rt.Name, t.Filter, exprMessage(err))
			}
		}
		if t.Unnest != "" {
			if _, err := splitPath(t.Unnest); err != nil {
				p.at(at+".unnest", "table %q: unnest %q: %v", rt.Name, t.Unnest, err)
			}
		}
		keys := map[string]bool{}
		for k, name := range t.Key {
			kat := fmt.Sprintf("%s.key[%d]", at, k)
			switch {
			case !names[name]:
				msg := fmt.Sprintf("table %q: key column %q is not one of its columns", rt.Name, name)
				if near := suggest.Nearest(name, slices.Sorted(maps.Keys(names))); near != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", near)
				}
				p.at(kat, "%s", msg)
			case keys[name]:
				p.at(kat, "table %q: key column %q is listed twice", rt.Name, name)
			}
			keys[name] = true
		}
		out[i] = t
	}
	return out
}

// splitPath splits an unnest path "messages.attachments" into its keys.
func splitPath(s string) ([]string, error) {
	parts := strings.Split(s, ".")
	for _, k := range parts {
		if k == "" {
			return nil, errors.New("an empty key (want keys joined by dots: messages.attachments)")
		}
		if strings.ContainsAny(k, " \t[]()") {
			return nil, fmt.Errorf("key %q: want keys joined by dots, without spaces or brackets", k)
		}
	}
	return parts, nil
}

package job

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/expr-lang/expr"
	exprast "github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	exprparser "github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"

	"github.com/weir-etl/weir/connect"

	"github.com/weir-etl/weir/internal/suggest"
)

// The names an unnest table's expressions see besides the record's fields.
const (
	nameItem     = "item"     // the current element of the innermost array
	nameParent   = "parent"   // the object holding the innermost array (nil for a top-level array)
	nameOrdinal  = "ordinal"  // the element's position in the innermost array, from 0
	nameOrdinals = "ordinals" // the positions in every array the path went through, outermost first
)

// Program is a [Job] compiled against a source's columns: every
// expression compiled once, ready to turn records into rows. It is safe
// for concurrent use: each Run borrows its own scratch state.
type Program struct {
	job      *Job
	columns  []string // the source's columns
	tables   []table
	vmCols   []int // source columns some VM expression reads
	pool     sync.Pool
	filtered []atomic.Int64
}

// table is a compiled TableSpec.
type table struct {
	name   string
	unnest []string // nil: one row per record
	root   int      // source column of unnest[0]
	filter *eval
	cols   []eval
	itemVM bool // some VM expression reads item or parent
	anyVM  bool // some expression runs on the VM
}

// Where an eval's value starts.
const (
	fromColumn = iota
	fromItem
	fromParent
	fromOrdinal
	fromOrdinals
	fromVM // not a path: run prog
)

// eval computes one value: a column's or a filter's. Expressions that are
// a name followed by .keys and [indexes] (id, item.filename, ordinals[0])
// are read directly, without the expression VM, which is most of a job's
// work; the rest run on the VM.
type eval struct {
	name string // the column's name ("" for a filter)
	typ  connect.Type
	from int
	col  int // fromColumn: the source column
	path []step
	prog *vm.Program
}

// step is one .key or [index] of a path.
type step struct {
	key   string
	index int
	isKey bool
}

// Compile compiles every expression of the job for a source with the
// given columns (the names its rows' values follow), so that an
// expression that does not compile, or names a field the source does not
// have, fails before a record is read. Errors name the file, line and
// column of the expression and, for a misspelt name, the nearest field.
// It checks also that each unnest path starts at a source column.
func (j *Job) Compile(columns []string) (*Program, error) {
	index := make(map[string]int, len(columns))
	for i, c := range columns {
		if _, dup := index[c]; dup {
			return nil, fmt.Errorf("job: %s: the source has two columns named %q", j.File, c)
		}
		index[c] = i
	}
	p := &Program{job: j, columns: slices.Clone(columns), filtered: make([]atomic.Int64, len(j.tables))}
	var errs []error
	vmCols := map[int]bool{}
	for ti, spec := range j.tables {
		at := fmt.Sprintf("tables[%d]", ti)
		t := table{name: spec.Name, root: -1}
		env := types.Map{}
		for _, c := range columns {
			env[c] = types.Any
		}
		if spec.Unnest != "" {
			t.unnest, _ = splitPath(spec.Unnest) // Parse checked it
			root, ok := index[t.unnest[0]]
			if !ok {
				errs = append(errs, j.pos.error(j.File, at+".unnest", "table %q: unnest %q: the source has no column %q%s",
					spec.Name, spec.Unnest, t.unnest[0], didYouMean(t.unnest[0], columns)))
			}
			t.root = root
			env[nameItem], env[nameParent] = types.Any, types.Any
			env[nameOrdinal], env[nameOrdinals] = types.Int, types.Array(types.Int)
		}
		compile := func(name, src, path string, typ connect.Type) *eval {
			e, used, err := compileEval(src, env, index)
			if err != nil {
				what := "filter"
				if name != "" {
					what = fmt.Sprintf("column %q", name)
				}
				errs = append(errs, j.pos.error(j.File, path, "table %q, %s: %s", spec.Name, what, j.explain(err, env, spec.Unnest != "")))
				return &eval{}
			}
			e.name, e.typ = name, typ
			if e.from == fromVM {
				t.anyVM = true
				for _, u := range used {
					switch {
					case spec.Unnest != "" && (u == nameItem || u == nameParent):
						t.itemVM = true
					case spec.Unnest != "" && (u == nameOrdinal || u == nameOrdinals):
					default:
						if c, ok := index[u]; ok {
							vmCols[c] = true
						}
					}
				}
			}
			return e
		}
		if spec.Filter != "" {
			t.filter = compile("", spec.Filter, at+".filter", connect.TypeBool)
		}
		for _, c := range spec.Columns {
			t.cols = append(t.cols, *compile(c.Name, c.Expr, at+".columns."+c.Name+".expr", c.Type))
		}
		p.tables = append(p.tables, t)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	p.vmCols = slices.Sorted(maps.Keys(vmCols))
	p.pool.New = func() any { return p.newState() }
	return p, nil
}

// compileEval compiles src, and reads it as a path when it is one. It
// returns the env names the expression reads.
func compileEval(src string, env types.Map, index map[string]int) (*eval, []string, error) {
	prog, err := expr.Compile(src, expr.Env(env))
	if err != nil {
		return nil, nil, err
	}
	tree, err := exprparser.Parse(src)
	if err != nil {
		return nil, nil, err
	}
	root, steps, ok := asPath(tree.Node)
	if root == nameOrdinals && (len(steps) != 1 || steps[0].isKey) {
		ok = false // only ordinals[k] is read directly
	}
	if _, known := env[root]; ok && known {
		e := &eval{path: steps}
		switch root {
		case nameItem:
			e.from = fromItem
		case nameParent:
			e.from = fromParent
		case nameOrdinal:
			e.from = fromOrdinal
		case nameOrdinals:
			e.from = fromOrdinals
		default:
			e.from, e.col = fromColumn, index[root]
		}
		return e, nil, nil
	}
	v := &identifiers{}
	exprast.Walk(&tree.Node, v)
	return &eval{from: fromVM, prog: prog}, v.names, nil
}

// asPath reads a name followed by .keys and [integer indexes].
func asPath(n exprast.Node) (root string, steps []step, ok bool) {
	switch n := n.(type) {
	case *exprast.IdentifierNode:
		return n.Value, nil, true
	case *exprast.MemberNode:
		if n.Optional || n.Method {
			return "", nil, false
		}
		root, steps, ok = asPath(n.Node)
		if !ok {
			return "", nil, false
		}
		switch p := n.Property.(type) {
		case *exprast.StringNode:
			return root, append(steps, step{key: p.Value, isKey: true}), true
		case *exprast.IntegerNode:
			return root, append(steps, step{index: p.Value}), true
		}
	}
	return "", nil, false
}

// identifiers collects the names an expression reads.
type identifiers struct{ names []string }

func (v *identifiers) Visit(n *exprast.Node) {
	if id, ok := (*n).(*exprast.IdentifierNode); ok && !slices.Contains(v.names, id.Value) {
		v.names = append(v.names, id.Value)
	}
}

var unknownName = regexp.MustCompile(`^unknown name (\S+)`)

// explain turns an expression's compile error into one line, naming the
// nearest field for a misspelt one.
func (j *Job) explain(err error, env types.Map, unnest bool) string {
	msg := exprMessage(err)
	if m := unknownName.FindStringSubmatch(msg); m != nil {
		switch {
		case !unnest && (m[1] == nameItem || m[1] == nameParent || m[1] == nameOrdinal || m[1] == nameOrdinals):
			msg += fmt.Sprintf(" (%s exists only in a table with unnest:)", m[1])
		default:
			msg += didYouMean(m[1], slices.Sorted(maps.Keys(env)))
		}
	}
	return msg
}

func didYouMean(name string, known []string) string {
	if near := suggest.Nearest(name, known); near != "" {
		return fmt.Sprintf(" (did you mean %q?)", near)
	}
	return ""
}

// exprMessage returns an expression error's message with the column it
// points at, on one line.
func exprMessage(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fmt.Sprintf("%s (at character %d of the expression)", fe.Message, fe.Column+1)
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

// Filtered returns how many rows of table i (in [Job.Tables] order) the
// table's filter has dropped so far, over every Run of p.
func (p *Program) Filtered(i int) int64 { return p.filtered[i].Load() }

// Job returns the job p was compiled from.
func (p *Program) Job() *Job { return p.job }

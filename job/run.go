package job

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/vm"

	"github.com/weir-etl/weir/connect"
)

// state is one Run's scratch: the record's JSON fields, decoded once and
// only when an expression reads them, and the expression VM's
// environment. Runs borrow states from Program.pool, so that a worker
// running record after record allocates little beyond its rows' strings.
type state struct {
	p         *Program
	in        connect.Row
	dec       decoder
	nodes     []*node // per field: its decoded JSON, nil until read
	env       map[string]any
	envReady  bool // env holds the record's fields
	envUnnest bool // env holds an unnest table's names
	machine   vm.VM
	out       []connect.Value
	buf       []byte
	ordinals  []int
	item      *node // the current element of an unnest table
	parent    *node // the object holding its array, nil for a top-level array
	filtered  []int64
}

func (p *Program) newState() *state {
	return &state{p: p, nodes: make([]*node, len(p.columns)), env: map[string]any{},
		filtered: make([]int64, len(p.tables))}
}

// Run turns one record into rows: for each table in [Job.Tables] order,
// its rows in document order (the order of the unnested arrays), calling
// emit with the table's index and the row's values, converted to the
// declared types. values is reused after emit returns: copy what you
// keep. A row the table's filter rejects is not emitted but counted (see
// [Program.Filtered]).
//
// in's values follow the columns p was compiled for. A value that does
// not fit its column, an expression that fails, or a malformed JSON
// field stops the record with a [*RowError] naming in.Pos, the table and
// the column; rows already emitted for the record stay emitted, so a
// caller that rejects records collects a record's rows and keeps them
// only when Run returns nil. An error from emit is returned as it is.
// Run is safe for concurrent use.
//
// Cost: fields and paths (id, item.filename, ordinals[0]) are read
// without the expression VM and JSON is decoded without allocating, so a
// user of the reference job (126 rows) costs a few tens of microseconds
// (BenchmarkUsersJob); strings that end up in rows share the record's
// memory.
func (p *Program) Run(in connect.Row, emit func(table int, values []connect.Value) error) error {
	if len(in.Values) != len(p.columns) {
		return fmt.Errorf("job: %s: the record has %d values for the source's %d columns", in.Pos, len(in.Values), len(p.columns))
	}
	st := p.pool.Get().(*state)
	st.in = in
	err := st.run(emit)
	for i, n := range st.filtered {
		if n > 0 {
			p.filtered[i].Add(n)
			st.filtered[i] = 0
		}
	}
	st.dec.reset()
	clear(st.nodes)
	clear(st.env)
	clear(st.out[:cap(st.out)])
	st.envReady, st.envUnnest, st.in, st.item, st.parent = false, false, connect.Row{}, nil, nil
	p.pool.Put(st)
	return err
}

func (st *state) run(emit func(int, []connect.Value) error) error {
	for ti := range st.p.tables {
		t := &st.p.tables[ti]
		if t.unnest == nil {
			if err := st.row(ti, t, emit); err != nil {
				return err
			}
			continue
		}
		st.ordinals = st.ordinals[:0]
		v := st.in.Values[t.root]
		if v.IsNull() {
			continue
		}
		if v.Type() != connect.TypeJSON {
			return st.rowError(t, "", fmt.Errorf("unnest %s: field %q is %s, not an array or an object",
				strings.Join(t.unnest, "."), t.unnest[0], describeValue(v)))
		}
		root, err := st.node(t.root)
		if err != nil {
			return st.rowError(t, "", err)
		}
		if err := st.unnest(ti, t, root, 1, nil, emit); err != nil {
			return err
		}
	}
	return nil
}

// unnest walks t's path from n, the value reached after its first seg
// keys, and makes a row for each element of the innermost array. An
// array met before the path ends is walked element by element; null or a
// missing key makes no rows.
func (st *state) unnest(ti int, t *table, n *node, seg int, parent *node, emit func(int, []connect.Value) error) error {
	for {
		switch {
		case n == nil || n.kind == kindNull:
			return nil
		case n.kind == kindArray:
			for i := range n.kids {
				st.ordinals = append(st.ordinals, i)
				var err error
				if seg == len(t.unnest) {
					st.item, st.parent = &n.kids[i], parent
					err = st.row(ti, t, emit)
				} else {
					err = st.unnest(ti, t, &n.kids[i], seg, parent, emit)
				}
				st.ordinals = st.ordinals[:len(st.ordinals)-1]
				if err != nil {
					return err
				}
			}
			return nil
		case n.kind == kindObject && seg < len(t.unnest):
			parent, n = n, n.get(t.unnest[seg])
			seg++
		default:
			what := "an object"
			if n.kind != kindObject {
				what = describeNode(n)
			}
			return st.rowError(t, "", fmt.Errorf("unnest %s: %s is %s, not an array",
				strings.Join(t.unnest, "."), strings.Join(t.unnest[:seg], "."), what))
		}
	}
}

// row makes one row of t from the record and, in an unnest table, the
// current element.
func (st *state) row(ti int, t *table, emit func(int, []connect.Value) error) error {
	if t.filter != nil {
		keep, err := st.filter(t)
		if err != nil {
			return st.rowError(t, "", fmt.Errorf("filter: %w", err))
		}
		if !keep {
			st.filtered[ti]++
			return nil
		}
	}
	out := st.out[:0]
	for i := range t.cols {
		e := &t.cols[i]
		var val connect.Value
		var err error
		if e.from == fromVM {
			var v any
			if v, err = st.runVM(t, e); err == nil {
				val, err = convert(v, e.typ, &st.buf)
			}
		} else {
			var r ref
			if r, err = st.resolve(e); err == nil {
				if r.n != nil {
					val, err = convertNode(r.n, e.typ, &st.buf)
				} else {
					val, err = convertValue(r.v, e.typ, &st.buf)
				}
			}
		}
		if err != nil {
			return st.rowError(t, e.name, err)
		}
		out = append(out, val)
	}
	st.out = out
	return emit(ti, out)
}

func (st *state) filter(t *table) (bool, error) {
	e := t.filter
	if e.from == fromVM {
		v, err := st.runVM(t, e)
		if err != nil {
			return false, err
		}
		b, ok := v.(bool)
		if !ok {
			return false, fmt.Errorf("it gave %s, not a boolean", describe(v))
		}
		return b, nil
	}
	r, err := st.resolve(e)
	switch {
	case err != nil:
		return false, err
	case r.n != nil && r.n.kind == kindBool:
		return r.n.b, nil
	case r.n == nil && !r.v.IsNull() && r.v.Type() == connect.TypeBool:
		return r.v.Int() == 1, nil
	case r.n != nil:
		return false, fmt.Errorf("it gave %s, not a boolean", describeNode(r.n))
	}
	return false, fmt.Errorf("it gave %s, not a boolean", describeValue(r.v))
}

// ref is what a path reaches: a JSON value, or else a field that is not
// JSON or an ordinal.
type ref struct {
	n *node
	v connect.Value
}

// resolve follows e's path, the way the expression VM would: a missing
// key is null, a negative index counts from the end, and a key or index
// of anything else (null, a string, an index out of range) is an error.
func (st *state) resolve(e *eval) (ref, error) {
	var n *node
	switch e.from {
	case fromColumn:
		v := st.in.Values[e.col]
		if v.IsNull() || v.Type() != connect.TypeJSON {
			if len(e.path) > 0 {
				return ref{}, fmt.Errorf("cannot fetch %s from field %q, %s", e.path[0], st.p.columns[e.col], describeValue(v))
			}
			return ref{v: v}, nil
		}
		var err error
		if n, err = st.node(e.col); err != nil {
			return ref{}, err
		}
	case fromItem:
		n = st.item
	case fromParent:
		n = st.parent
		if n == nil {
			n = &nullNode
		}
	case fromOrdinal:
		return ref{v: connect.Int64(int64(st.ordinals[len(st.ordinals)-1]))}, nil
	case fromOrdinals:
		i, err := index(e.path[0].index, len(st.ordinals))
		if err != nil {
			return ref{}, err
		}
		return ref{v: connect.Int64(int64(st.ordinals[i]))}, nil
	}
	for _, s := range e.path {
		var next *node
		switch {
		case n.kind == kindObject && s.isKey:
			if next = n.get(s.key); next == nil {
				next = &nullNode
			}
		case n.kind == kindArray && !s.isKey:
			i, err := index(s.index, len(n.kids))
			if err != nil {
				return ref{}, err
			}
			next = &n.kids[i]
		default:
			return ref{}, fmt.Errorf("cannot fetch %s from %s", s, describeNode(n))
		}
		n = next
	}
	return ref{n: n}, nil
}

var nullNode node

func (s step) String() string {
	if s.isKey {
		return strconv.Quote(s.key)
	}
	return "[" + strconv.Itoa(s.index) + "]"
}

func index(i, n int) (int, error) {
	j := i
	if j < 0 {
		j += n
	}
	if j < 0 || j >= n {
		return 0, fmt.Errorf("index out of range: %d (array length is %d)", i, n)
	}
	return j, nil
}

// node returns JSON field c decoded, decoding it on first use.
func (st *state) node(c int) (*node, error) {
	if n := st.nodes[c]; n != nil {
		return n, nil
	}
	n, err := st.dec.decode(st.in.Values[c].Str())
	if err != nil {
		return nil, fmt.Errorf("field %q: %w", st.p.columns[c], err)
	}
	st.nodes[c] = n
	return n, nil
}

// runVM runs a compiled expression. Its environment holds the fields the
// job's VM expressions read (numbers as int or float64, so that
// arithmetic and comparisons work) and, in an unnest table, the
// element's names, which shadow fields of the same name.
func (st *state) runVM(t *table, e *eval) (any, error) {
	if !st.envReady {
		for _, c := range st.p.vmCols {
			v := st.in.Values[c]
			var n *node
			if !v.IsNull() && v.Type() == connect.TypeJSON {
				var err error
				if n, err = st.node(c); err != nil {
					return nil, err
				}
			}
			st.env[st.p.columns[c]] = fieldGo(v, n)
		}
		st.envReady = true
	}
	if t.unnest != nil {
		if t.itemVM {
			st.env[nameItem], st.env[nameParent] = goOf(st.item), nil
			if st.parent != nil {
				st.env[nameParent] = goOf(st.parent)
			}
		}
		st.env[nameOrdinal] = st.ordinals[len(st.ordinals)-1]
		st.env[nameOrdinals] = st.ordinals
		st.envUnnest = true
	} else if st.envUnnest {
		// The last table's unnest names shadowed fields of the same
		// names; bring the fields back.
		for _, n := range [...]string{nameItem, nameParent, nameOrdinal, nameOrdinals} {
			delete(st.env, n)
		}
		st.envReady, st.envUnnest = false, false
		return st.runVM(t, e)
	}
	v, err := st.machine.Run(e.prog, st.env)
	if err != nil {
		return nil, errors.New(exprMessage(err))
	}
	return v, nil
}

func (st *state) rowError(t *table, column string, err error) error {
	return &RowError{Pos: st.in.Pos, Table: t.name, Column: column, Err: err}
}

func describeNode(n *node) string {
	switch n.kind {
	case kindNull:
		return "null"
	case kindBool:
		return "a boolean"
	case kindNumber:
		return "a number"
	case kindString:
		return "a string"
	case kindObject:
		return "an object"
	}
	return "an array"
}

func describeValue(v connect.Value) string {
	if v.IsNull() {
		return "null"
	}
	return "a " + v.Type().String()
}

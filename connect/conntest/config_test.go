package conntest_test

import (
	"errors"
	"testing"

	"github.com/weir-etl/weir/connect/conntest"
)

// validator is a config whose Validate returns err.
type validator struct{ err error }

func (v validator) Validate() error { return v.err }

func TestConfigPasses(t *testing.T) {
	conntest.Config(t, []conntest.ConfigCase{
		{Name: "valid", Config: validator{}},
		{Name: "invalid", Config: validator{errors.New("x: Config.Name is empty")}, Want: []string{"Config.Name is empty"}},
	})
}

func TestConfigCatches(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    conntest.ConfigCase
	}{
		{"a valid config refused", conntest.ConfigCase{Name: "c", Config: validator{errors.New("no")}}},
		{"an invalid config accepted", conntest.ConfigCase{Name: "c", Config: validator{}, Want: []string{"Name"}}},
		{"an error naming another field", conntest.ConfigCase{Name: "c", Config: validator{errors.New("Config.Other is empty")}, Want: []string{"Config.Name"}}},
	} {
		catches(t, tc.name, func(t conntest.Tester) {
			conntest.ConfigWith(t, []conntest.ConfigCase{tc.c})
		}, "c")
	}
}

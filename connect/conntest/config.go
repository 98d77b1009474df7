package conntest

import (
	"strings"
	"testing"
)

// ConfigCase is one configuration for [Config]: a config struct of the
// connector's (anything with a Validate method) and what Validate must say
// about it.
type ConfigCase struct {
	// Name names the subtest: "sink: ConflictUpdate without Key".
	Name string
	// Config is the value to validate.
	Config interface{ Validate() error }
	// Want lists texts that Validate's error must each contain (name the
	// field: "SinkConfig.Table.Name is empty"). Nil means the config is
	// valid and Validate must return nil.
	Want []string
}

// Config checks a connector's config validation, the contract every
// connector's constructor relies on (see package connect): each case's
// Validate returns nil for a valid config, and for an invalid one an error
// containing every text of Want, so a user told "invalid config" also
// learns which field and why. Each case runs as a subtest named after it.
func Config(t *testing.T, cases []ConfigCase) {
	testConfig(testingT{t}, cases)
}

func testConfig(t tester, cases []ConfigCase) {
	for _, c := range cases {
		t.Run(c.Name, func(t tester) {
			err := c.Config.Validate()
			if c.Want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error mentioning %q", c.Want)
			}
			for _, w := range c.Want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, lacks %q", err, w)
				}
			}
		})
	}
}

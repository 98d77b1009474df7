package job

import (
	_ "embed"
	"slices"
)

//go:embed schema.json
var schema []byte

// Schema returns the JSON Schema (draft 2020-12) of the job file format,
// which `weir schema` prints so that editors can check and complete job
// files (the YAML language server reads a `# yaml-language-server:
// $schema=...` comment). It returns a new copy.
func Schema() []byte { return slices.Clone(schema) }

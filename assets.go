// Package attrconform carries the files the suite is built on, so that the
// runner and the suites work from any directory: the contract, the
// requirement catalogue and the bundled reference tenant.
package attrconform

import _ "embed"

// Contract is openapi.yaml, the contract every exchange is validated against.
//
//go:embed openapi.yaml
var Contract []byte

// Requirements is the requirement catalogue, fixtures/requirements.yaml.
//
//go:embed fixtures/requirements.yaml
var Requirements []byte

// ReferenceTarget is the bundled reference tenant, fixtures/reference.yaml,
// in target-file form without a base_url.
//
//go:embed fixtures/reference.yaml
var ReferenceTarget []byte

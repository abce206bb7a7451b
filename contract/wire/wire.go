// Package wire holds what the suite and a server agree on beyond the
// contract's operations: the fault-hook header with which a test server
// is asked for a failure, so that the suite can check the 500 and 503
// answers. It imports nothing, so a server can use it without linking the
// contract's validator.
package wire

// FaultHeader asks a server with fault hooks for a failure: FaultStore
// answers as if the store were unavailable (500), FaultOverload as if the
// server were overloaded (503).
const (
	FaultHeader   = "X-Conformance-Fault"
	FaultStore    = "store-unavailable"
	FaultOverload = "overload"
)

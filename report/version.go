package report

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"runtime/debug"
)

// Version is the suite's release; bump it when a release is tagged.
const Version = "0.1.0"

// pseudoVersion matches Go's pseudo-versions (v0.0.0-20261122201641-7b4b7b3318f4).
var pseudoVersion = regexp.MustCompile(`-(\d+\.)?\d{14}-[0-9a-f]{12}(\+dirty)?$`)

// SuiteVersion is the version reports carry: the release tag Go stamped
// into the binary when it was installed from one (`go install …@v1.2.0`),
// else Version with the commit it was built from, when the build recorded
// it ("0.1.0+7b4b7b3318f4", "-dirty" for a tree with uncommitted changes;
// `go build` in a clone, unless -buildvcs=false), else Version alone
// (`go run`, `go test`, -buildvcs=false).
func SuiteVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Version
	}
	return versionOf(bi)
}

func versionOf(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" && !pseudoVersion.MatchString(v) {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return Version
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := Version + "+" + rev
	if dirty {
		v += "-dirty"
	}
	return v
}

// ContractHash is the hex SHA-256 of a contract (openapi.yaml), so that a
// report says exactly which contract judged the target.
func ContractHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

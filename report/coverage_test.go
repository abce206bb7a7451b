package report

import (
	"slices"
	"testing"

	attrconform "github.com/attrconform/attrconform"
	"github.com/attrconform/attrconform/contract"
)

func TestBuildCoverageJoinsDocumentedCodesWithExchanges(t *testing.T) {
	cov := sample().Coverage
	var order []string
	for _, oc := range cov {
		order = append(order, oc.Operation)
	}
	// Paths in the contract's order; on one path GET, POST, PUT, PATCH, DELETE.
	want := []string{"getUserAttributes", "setUserAttributes", "deleteUserAttributes", "batchGetUserAttributes"}
	if !slices.Equal(order, want) {
		t.Fatalf("operations in order %v, want %v", order, want)
	}
	if got := Unexercised(cov); !slices.Equal(got, []Pair{{"setUserAttributes", 413}}) {
		t.Fatalf("unexercised %v, want [setUserAttributes 413]", got)
	}
	put := cov[1]
	if hit, doc := put.Exercised(); hit != 2 || doc != 3 || !slices.Equal(put.Missing(), []int{413}) {
		t.Fatalf("setUserAttributes: %d/%d exercised, missing %v", hit, doc, put.Missing())
	}
}

func TestBuildCoverageKeepsUndocumentedAndUnknownOperations(t *testing.T) {
	cov := BuildCoverage([]contract.Operation{{ID: "op", Method: "get", Path: "/p", Statuses: []int{200}}},
		map[string]map[int]int{"op": {200: 1, 418: 2}, "other": {500: 1}})
	if len(cov) != 2 || cov[0].Method != "GET" || len(cov[0].Statuses) != 2 || cov[0].Statuses[1] != (StatusCount{Status: 418, Exchanges: 2}) {
		t.Fatalf("coverage %+v", cov)
	}
	if cov[1].Operation != "other" || cov[1].Statuses[0].Documented {
		t.Fatalf("an operation outside the contract is listed as undocumented: %+v", cov[1])
	}
	if len(Unexercised(cov)) != 0 {
		t.Fatalf("undocumented codes are never missing: %v", Unexercised(cov))
	}
}

// The coverage of the real contract lists every documented code, read
// from openapi.yaml, whatever codes it documents.
func TestBuildCoverageFromTheContract(t *testing.T) {
	c, err := contract.Load(attrconform.Contract, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	ops := c.Operations()
	cov := BuildCoverage(ops, nil)
	pairs := 0
	for _, op := range ops {
		pairs += len(op.Statuses)
	}
	if len(cov) != len(ops) || len(Unexercised(cov)) != pairs || pairs == 0 {
		t.Fatalf("%d operations, %d documented pairs; coverage has %d operations and %d unexercised pairs", len(ops), pairs, len(cov), len(Unexercised(cov)))
	}
}

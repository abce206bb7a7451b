package report

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/attrconform/attrconform/contract"
)

// OperationCoverage is one documented operation with every status code
// the contract documents for it and how many validated exchanges of the
// run answered each.
type OperationCoverage struct {
	Operation string        `json:"operation"`
	Method    string        `json:"method"`
	Path      string        `json:"path"`
	Statuses  []StatusCount `json:"statuses"`
}

// StatusCount is one status code of an operation.
type StatusCount struct {
	Status int `json:"status"`
	// Documented: openapi.yaml lists the code for the operation.
	Documented bool `json:"documented"`
	// Exchanges is how many validated exchanges answered with it.
	Exchanges int `json:"exchanges"`
}

// Pair is an (operation, status code) pair.
type Pair struct {
	Operation string `json:"operation"`
	Status    int    `json:"status"`
}

func (p Pair) String() string { return fmt.Sprintf("%s %d", p.Operation, p.Status) }

// methodOrder orders the operations of one path.
var methodOrder = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// BuildCoverage joins the contract's documented codes (ops, read from
// openapi.yaml at run time) with the counts the validating transport
// recorded (seen: operation -> status -> exchanges). Operations keep the
// contract's path order, methods a fixed order, codes ascend; a status seen
// but not documented (possible only with a "default" response) is listed
// with Documented false.
func BuildCoverage(ops []contract.Operation, seen map[string]map[int]int) []OperationCoverage {
	type indexed struct {
		contract.Operation
		path int
	}
	var list []indexed
	paths := map[string]int{}
	for _, op := range ops {
		if _, ok := paths[op.Path]; !ok {
			paths[op.Path] = len(paths)
		}
		list = append(list, indexed{op, paths[op.Path]})
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].path != list[j].path {
			return list[i].path < list[j].path
		}
		return methodRank(list[i].Method) < methodRank(list[j].Method)
	})
	var out []OperationCoverage
	known := map[string]bool{}
	for _, op := range list {
		known[op.ID] = true
		oc := OperationCoverage{Operation: op.ID, Method: strings.ToUpper(op.Method), Path: op.Path}
		codes := map[int]bool{}
		for _, c := range op.Statuses {
			codes[c] = true
		}
		for c := range seen[op.ID] {
			if _, ok := codes[c]; !ok {
				codes[c] = false
			}
		}
		for _, c := range sortedInts(codes) {
			oc.Statuses = append(oc.Statuses, StatusCount{Status: c, Documented: codes[c], Exchanges: seen[op.ID][c]})
		}
		out = append(out, oc)
	}
	var extra []string
	for op := range seen {
		if !known[op] {
			extra = append(extra, op)
		}
	}
	sort.Strings(extra)
	for _, op := range extra {
		oc := OperationCoverage{Operation: op}
		codes := map[int]bool{}
		for c := range seen[op] {
			codes[c] = false
		}
		for _, c := range sortedInts(codes) {
			oc.Statuses = append(oc.Statuses, StatusCount{Status: c, Exchanges: seen[op][c]})
		}
		out = append(out, oc)
	}
	return out
}

// Unexercised lists the documented (operation, status) pairs no exchange
// answered.
func Unexercised(cov []OperationCoverage) []Pair {
	var out []Pair
	for _, oc := range cov {
		for _, sc := range oc.Statuses {
			if sc.Documented && sc.Exchanges == 0 {
				out = append(out, Pair{oc.Operation, sc.Status})
			}
		}
	}
	return out
}

// Exercised counts the documented codes of an operation that some
// exchange answered, and the documented codes.
func (oc OperationCoverage) Exercised() (hit, documented int) {
	for _, sc := range oc.Statuses {
		if sc.Documented {
			documented++
			if sc.Exchanges > 0 {
				hit++
			}
		}
	}
	return hit, documented
}

// Missing lists the documented codes of an operation no exchange answered.
func (oc OperationCoverage) Missing() []int {
	var out []int
	for _, sc := range oc.Statuses {
		if sc.Documented && sc.Exchanges == 0 {
			out = append(out, sc.Status)
		}
	}
	return out
}

// count is the number of exchanges of status, and whether it is documented.
func (oc OperationCoverage) count(status int) (StatusCount, bool) {
	for _, sc := range oc.Statuses {
		if sc.Status == status {
			return sc, true
		}
	}
	return StatusCount{}, false
}

// coverageColumns is every status code of any operation, ascending.
func coverageColumns(cov []OperationCoverage) []int {
	set := map[int]bool{}
	for _, oc := range cov {
		for _, sc := range oc.Statuses {
			set[sc.Status] = true
		}
	}
	return sortedInts(set)
}

func methodRank(m string) int {
	if i := slices.Index(methodOrder, strings.ToUpper(m)); i >= 0 {
		return i
	}
	return len(methodOrder)
}

func sortedInts[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

package contract_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	attrconform "github.com/attrconform/attrconform"
	"github.com/attrconform/attrconform/contract"
)

// answer is a base transport with no network: it drains the request and
// returns a fixed 200, so that the validated side's extra time is the
// validation alone.
type answer string

func (a answer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK, Request: req,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   io.NopCloser(bytes.NewReader([]byte(a))),
	}, nil
}

// BenchmarkValidation prices contract.Transport per exchange, with the
// network taken out: compare each validated case with its plain twin.
func BenchmarkValidation(b *testing.B) {
	const base = "http://127.0.0.1:1/acme/chat/metadata/user/"
	c, err := contract.Load(attrconform.Contract, "http://127.0.0.1:1")
	if err != nil {
		b.Fatal(err)
	}
	exchanges := []struct {
		name, method, url, contentType, body, answer string
	}{
		{"GET", http.MethodGet, base + "alice", "", "",
			`{"timestamp":1620445147011,"data":{"nickname":"Ann","city":"Oslo"},"duration":1}`},
		{"PUT", http.MethodPut, base + "alice", "application/x-www-form-urlencoded", "nickname=Ann&city=Oslo",
			`{"timestamp":1620445147011,"data":{"nickname":"Ann","city":"Oslo"},"duration":1}`},
		{"batch", http.MethodPost, base + "get", "application/json", `{"targets":["alice","bob"],"properties":["city"]}`,
			`{"timestamp":1620445147011,"data":{"alice":{"city":"Oslo"},"bob":{"city":"Rome"}},"duration":1}`},
	}
	for _, x := range exchanges {
		for _, side := range []string{"plain", "validated"} {
			var rt http.RoundTripper = answer(x.answer)
			if side == "validated" {
				rt = &contract.Transport{Contract: c, Base: rt}
			}
			b.Run(x.name+"/"+side, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					req, _ := http.NewRequest(x.method, x.url, strings.NewReader(x.body))
					req.Header.Set("Authorization", "Bearer token")
					if x.contentType != "" {
						req.Header.Set("Content-Type", x.contentType)
					}
					resp, err := rt.RoundTrip(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
	}
}

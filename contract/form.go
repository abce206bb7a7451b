package contract

import (
	"io"
	"net/http"
	"net/url"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// kin-openapi's form decoder hands the schema only the properties it
// declares, so the free-form attribute map of a PUT would be checked
// against nothing. This decoder hands it every pair (the first value of a
// repeated key, as servers keep it).
func init() {
	openapi3filter.RegisterBodyDecoder("application/x-www-form-urlencoded", decodeForm)
}

func decodeForm(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	values, err := url.ParseQuery(string(data))
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(values))
	for k, vs := range values {
		out[k] = vs[0]
	}
	return out, nil
}

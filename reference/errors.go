package reference

import (
	"fmt"
	"net/http"
)

// apiError is an error answer: status, the short type in `error`, the
// human text (sent as both error_description and desc, D-10), and an
// optional Retry-After in seconds.
type apiError struct {
	status     int
	kind       string
	text       string
	exception  string
	retryAfter int
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.kind, e.text) }

// texts follow the error_text_style knob: the current documents' type and
// description, or the seed pages' desc.
type texts struct{ legacy bool }

func (t texts) pick(current, legacy string) string {
	if t.legacy {
		return legacy
	}
	return current
}

func errMissingToken() *apiError {
	return &apiError{status: http.StatusUnauthorized, kind: "unauthorized", text: "Unable to authenticate due to expired access token", exception: "EasemobSecurityException"}
}

func errCorruptToken() *apiError {
	return &apiError{status: http.StatusUnauthorized, kind: "auth_bad_access_token", text: "Unable to authenticate due to corrupt access token", exception: "EasemobSecurityException"}
}

func errUnknownToken() *apiError {
	return &apiError{status: http.StatusUnauthorized, kind: "auth_bad_access_token", text: "Unable to authenticate", exception: "EasemobSecurityException"}
}

// errNotThisUser answers a user token used for another user's attributes.
func (t texts) errNotThisUser() *apiError {
	if t.legacy {
		return &apiError{status: http.StatusUnauthorized, kind: "unauthorized", text: "unauthorized"}
	}
	return &apiError{status: http.StatusUnauthorized, kind: "metadata_error", text: "auth error"}
}

func errAdminOnly() *apiError {
	return &apiError{status: http.StatusUnauthorized, kind: "unauthorized", text: "unauthorized"}
}

func (t texts) errUserTooLarge(limit int64) *apiError {
	return &apiError{status: http.StatusForbidden, kind: "FORBIDDEN",
		text: t.pick(fmt.Sprintf("size of metadata for this single user exceeds the user defined limit, %dBytes", limit), "user metadata length exceed the limit")}
}

func (t texts) errAppTooLarge(limit int64) *apiError {
	return &apiError{status: http.StatusForbidden, kind: "FORBIDDEN",
		text: t.pick(fmt.Sprintf("total size of user metadata for this app exceeds the user defined limit, %dBytes", limit), "user metadata length exceed the limit")}
}

func errBodyTooLarge(status int, text string) *apiError {
	if status == http.StatusRequestEntityTooLarge {
		return &apiError{status: status, kind: "request_entity_too_large", text: text}
	}
	return &apiError{status: http.StatusForbidden, kind: "FORBIDDEN", text: text}
}

func errServiceOff(org, app string) *apiError {
	return &apiError{status: http.StatusForbidden, kind: "FORBIDDEN", text: org + "#" + app + " user metadata service not allow"}
}

func errBatchTooLarge(status, limit int) *apiError {
	kind := "BAD_REQUEST"
	if status == http.StatusForbidden {
		kind = "FORBIDDEN"
	}
	return &apiError{status: status, kind: kind, text: fmt.Sprintf("exceed allowed batch size %d", limit)}
}

func errIllegalArgument(text string) *apiError {
	return &apiError{status: http.StatusBadRequest, kind: "illegal_argument", text: text}
}

func errJSONParse(err error) *apiError {
	return &apiError{status: http.StatusBadRequest, kind: "json_parse", text: "Unexpected content in the JSON body: " + err.Error()}
}

func (t texts) errUserNotFound() *apiError {
	return &apiError{status: http.StatusNotFound, kind: "service_resource_not_found", text: t.pick("Service resource not found", "Not Found")}
}

func errUnknownApp(org, app, path string) *apiError {
	return &apiError{status: http.StatusNotFound, kind: "organization_application_not_found",
		text: fmt.Sprintf("Could not find application for %s/%s from URI: %s", org, app, path)}
}

func errNoRoute(path string) *apiError {
	return &apiError{status: http.StatusNotFound, kind: "service_resource_not_found", text: "Service resource not found: " + path}
}

func errMethod(method string, allowed string) *apiError {
	return &apiError{status: http.StatusMethodNotAllowed, kind: "method_not_allowed", text: fmt.Sprintf("Request method '%s' not supported; use %s", method, allowed)}
}

func (t texts) errConflict() *apiError {
	return &apiError{status: http.StatusConflict, kind: "CONFLICT",
		text: t.pick("Failed to update userMetadata. Concurrent updates not allowed", "update userMetadata failed, concurrent updates not allowed")}
}

func errMediaType(ct string) *apiError {
	return &apiError{status: http.StatusUnsupportedMediaType, kind: "UNSUPPORTED_MEDIA_TYPE", text: fmt.Sprintf("Content-Type '%s' is not supported.", ct)}
}

func errRateLimited(status, retryAfter int) *apiError {
	if status == http.StatusServiceUnavailable {
		return &apiError{status: status, kind: "service_unavailable", text: "This request has reached api limit", retryAfter: retryAfter}
	}
	return &apiError{status: http.StatusTooManyRequests, kind: "reach_limit", text: "This request has reached api limit", retryAfter: retryAfter}
}

func errInternal() *apiError {
	return &apiError{status: http.StatusInternalServerError, kind: "INTERNAL_SERVER_ERROR", text: "update metadata failed"}
}

func errOverloaded() *apiError {
	return &apiError{status: http.StatusServiceUnavailable, kind: "service_unavailable", text: "The service is temporarily unavailable, try again later", retryAfter: 1}
}

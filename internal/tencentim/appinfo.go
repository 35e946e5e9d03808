package tencentim

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/imstats/imstats_exporter/internal/apierr"
)

// AppInfoRow is one day of getappinfo operations data: every field the vendor
// sent, as text. Strings are kept as they are (every value is a string in the
// samples of Tencent Chat's REST API page "Pulling Operations Data"), numbers
// and booleans as their JSON literal; null, objects and arrays are dropped.
// Date is YYYYMMDD, Beijing time.
type AppInfoRow map[string]string

// GetAppInfo pulls the operations data of the last 30 days, all fields, one
// row per day in the vendor's order. A success without Result gives no rows.
//
// A row whose AppId ("SDKAppID of the app", "Pulling Operations Data") is not
// the client's SDKAppID fails the whole call with an apierr.WrongApp error: a
// proxy or a mis-set endpoint answering for another app must not pass that
// app's numbers off as this one's. A row without AppId (an answer to a
// RequestField list that does not ask for it) is accepted.
func (c *Client) GetAppInfo(ctx context.Context) ([]AppInfoRow, error) {
	// An empty body asks for every field ("Pulling Operations Data": Pull
	// all fields by default).
	var body appInfoBody
	if err := c.Call(ctx, APIGetAppInfo, struct{}{}, &body); err != nil {
		return nil, err
	}
	want := strconv.FormatUint(c.sdkappid, 10)
	for _, row := range body.rows {
		if id, ok := row["AppId"]; ok && strings.TrimSpace(id) != want {
			return nil, &apierr.Error{Vendor: Vendor, API: APIGetAppInfo, Class: apierr.WrongApp, Code: apierr.CodeWrongApp,
				Message: sanitize("a row for AppId " + strconv.Quote(id) + ", not the configured SDKAppID " + want)}
		}
	}
	return body.rows, nil
}

// appInfoBody decodes a getappinfo answer. A Result that is not an array fails
// the decode; an element that is not an object is skipped.
type appInfoBody struct {
	rows []AppInfoRow
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *appInfoBody) UnmarshalJSON(data []byte) error {
	var raw struct {
		Result json.RawMessage
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	items, err := arrayOf(raw.Result)
	if err != nil {
		return err
	}
	if items != nil {
		b.rows = make([]AppInfoRow, 0, len(items))
	}
	for _, item := range items {
		var fields map[string]json.RawMessage
		if !isObject(item) || json.Unmarshal(item, &fields) != nil {
			continue
		}
		row := make(AppInfoRow, len(fields))
		for k, v := range fields {
			if s, ok := scalarText(v); ok {
				row[k] = s
			}
		}
		b.rows = append(b.rows, row)
	}
	return nil
}

package tencentim

import (
	"context"
	"encoding/json"
)

// AppInfoRow is one day of getappinfo operations data: every field the vendor
// sent, as text. Strings are kept as they are (the documented type of every
// field, Pulling Operations Data), numbers and booleans as their JSON
// literal; null, objects and arrays are dropped. Date is YYYYMMDD, Beijing
// time.
type AppInfoRow map[string]string

// GetAppInfo pulls the operations data of the last 30 days, all fields, one
// row per day in the vendor's order. A success without Result gives no rows.
func (c *Client) GetAppInfo(ctx context.Context) ([]AppInfoRow, error) {
	// An empty body asks for every field (Pulling Operations Data).
	var body appInfoBody
	if err := c.Call(ctx, APIGetAppInfo, struct{}{}, &body); err != nil {
		return nil, err
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

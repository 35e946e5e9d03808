package jpush

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// UsersDay is one day of users or group/users.
type UsersDay struct {
	// Day is the item's time, YYYY-MM-DD for the DAY unit the client asks for.
	Day string
	// Platforms holds the counts by platform (android, ios, …); empty for a
	// day without data.
	Platforms map[string]UserCounts
	// Refused is how many counts of the day were refused (see
	// Message.Refused).
	Refused int
}

// UserCounts are a platform's user counts of one day.
type UserCounts struct {
	New, Online, Active Count
}

// Users calls GET /v3/users (VIP only) with time_unit=DAY for days days from
// start, formatted as YYYY-MM-DD in start's location. days must be between 1
// and MaxUsersDays; otherwise nothing is sent.
func (c *Client) Users(ctx context.Context, start time.Time, days int) ([]UsersDay, error) {
	return c.users(ctx, APIUsers, start, days, MaxUsersDays)
}

// GroupUsers calls GET /v3/group/users (VIP only) as Users does, with at most
// MaxGroupUsersDays days. The client must be built with the group credential.
func (c *Client) GroupUsers(ctx context.Context, start time.Time, days int) ([]UsersDay, error) {
	return c.users(ctx, APIGroupUsers, start, days, MaxGroupUsersDays)
}

func (c *Client) users(ctx context.Context, api string, start time.Time, days, max int) ([]UsersDay, error) {
	if days < 1 || days > max {
		// JPush "REST API v3 Report": error 3005 beyond 60 days (30 for groups).
		return nil, refuse(api, "a window of %d days, the API allows 1 to %d", days, max)
	}
	q := url.Values{}
	q.Set("time_unit", "DAY")
	q.Set("start", start.Format(time.DateOnly))
	q.Set("duration", strconv.Itoa(days))
	var out []UsersDay
	err := c.do(ctx, api, http.MethodGet, q.Encode(), nil, func(body []byte) (err error) {
		out, err = decodeUsers(body)
		return err
	})
	return out, err
}

// decodeUsers decodes a users or group/users answer: an object whose "items"
// array holds one object per time unit, with "time" and an object of
// new/online/active counts per platform (platform names in snake_case; of two
// keys naming the same platform the first in key order wins). Items without a
// string time are dropped; other fields (time_unit, start, duration, new
// ones) are ignored.
func decodeUsers(body []byte) ([]UsersDay, error) {
	var answer struct {
		Items []map[string]json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return nil, err
	}
	out := make([]UsersDay, 0, len(answer.Items))
	for _, item := range answer.Items {
		day, ok := jsonString(item["time"])
		if !ok || day == "" {
			continue
		}
		d := UsersDay{Day: day, Platforms: map[string]UserCounts{}}
		dec := &decoder{}
		for _, key := range sortedKeys(item) {
			counts := object(item[key])
			platform := snakeCase(key)
			if _, dup := d.Platforms[platform]; key == "time" || counts == nil || platform == "" || dup {
				continue
			}
			d.Platforms[platform] = UserCounts{
				New:    dec.count(counts["new"]),
				Online: dec.count(counts["online"]),
				Active: dec.count(counts["active"]),
			}
		}
		d.Refused = dec.refused
		out = append(out, d)
	}
	return out, nil
}

package webguard

import (
	"log/slog"
	"time"

	"github.com/go-kit/log"
	slogkit "github.com/tjhop/slog-gokit"
)

// SlogLogger returns the *slog.Logger exporter-toolkit logs through,
// writing to the project's go-kit logger in its format: logger must be the
// go-kit logger before its "ts" is added. The slog bridge hands over
// level, caller, slog's own time and msg; the lines come out as the
// project's do, level=… ts=… caller=… msg=…, with one timestamp: slog's,
// as "ts" in UTC.
func SlogLogger(logger log.Logger) *slog.Logger {
	return slog.New(slogkit.NewGoKitHandler(gokitOrder{logger}, slog.LevelDebug))
}

// gokitOrder moves the bridge's level first and turns its time into "ts"
// right after it.
type gokitOrder struct{ next log.Logger }

func (g gokitOrder) Log(keyvals ...any) error {
	head := make([]any, 0, 4)
	rest := make([]any, 0, len(keyvals))
	var ts []any
	for i := 0; i+1 < len(keyvals); i += 2 {
		switch k, v := keyvals[i], keyvals[i+1]; {
		case k == slog.LevelKey:
			head = append(head, k, v)
		case k == slog.TimeKey:
			if t, ok := v.(time.Time); ok {
				ts = []any{"ts", t.UTC().Format(time.RFC3339Nano)}
			} else {
				rest = append(rest, k, v)
			}
		default:
			rest = append(rest, k, v)
		}
	}
	return g.next.Log(append(append(head, ts...), rest...)...)
}

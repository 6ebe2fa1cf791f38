//go:build libxl

package libxl

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"

	"virtxend/internal/backend"
	"virtxend/internal/backend/backendtest"
)

// startRecorder keeps the "Domain start" records a backend logs.
type startRecorder struct {
	mu    sync.Mutex
	level slog.Level
	got   []map[string]string
}

func (r *startRecorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.level }
func (r *startRecorder) WithAttrs([]slog.Attr) slog.Handler           { return r }
func (r *startRecorder) WithGroup(string) slog.Handler                { return r }
func (r *startRecorder) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message != "Domain start" {
		return nil
	}
	m := map[string]string{}
	rec.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	r.mu.Lock()
	r.got = append(r.got, m)
	r.mu.Unlock()
	return nil
}

// TestDomainStartLogged: at debug the backend logs each new domain's
// configuration as libxl completed it in creating the domain, as libvirt's
// libxl driver writes it ("Domain start: JSON") to the domain's log, so
// that test/xen/oracle.sh can compare what the two daemons handed libxl.
// libxl's defaults are in it (run_hotplug_scripts, which the translation
// leaves to libxl); below debug nothing is asked of libxl.
func TestDomainStartLogged(t *testing.T) {
	realXen(t)
	kernel := testKernel()
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		t.Run(level.String(), func(t *testing.T) {
			rec := &startRecorder{level: level}
			b, err := New(Options{Log: slog.New(rec)})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			cfg := backendtest.Config("conf-startlog", 0x5a, bootMinKiB, 1)
			cfg.BInfo.Kernel = kernel
			ctx := context.Background()
			id, err := b.Create(ctx, cfg, backend.CreateOptions{Paused: true})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Destroy(ctx, id)
			if level > slog.LevelDebug {
				if len(rec.got) != 0 {
					t.Fatalf("logged %d Domain start records at %v", len(rec.got), level)
				}
				return
			}
			if len(rec.got) != 1 {
				t.Fatalf("%d Domain start records, want 1", len(rec.got))
			}
			r := rec.got[0]
			if r["domain"] != "conf-startlog" || r["domid"] != fmtID(id) {
				t.Errorf("record names domain %q id %q, want conf-startlog id %d", r["domain"], r["domid"], id)
			}
			var doc struct {
				CInfo struct {
					Name              string `json:"name"`
					RunHotplugScripts string `json:"run_hotplug_scripts"`
				} `json:"c_info"`
				BInfo struct {
					Kernel string `json:"kernel"`
				} `json:"b_info"`
			}
			if err := json.Unmarshal([]byte(r["json"]), &doc); err != nil {
				t.Fatalf("json: %v\n%s", err, r["json"])
			}
			if doc.CInfo.Name != "conf-startlog" || doc.BInfo.Kernel != kernel {
				t.Errorf("json has name %q kernel %q", doc.CInfo.Name, doc.BInfo.Kernel)
			}
			if doc.CInfo.RunHotplugScripts != "True" {
				t.Errorf("json has run_hotplug_scripts %q: not libxl's completed configuration", doc.CInfo.RunHotplugScripts)
			}
		})
	}
}

func fmtID(id backend.DomID) string {
	b, _ := json.Marshal(uint32(id))
	return string(b)
}

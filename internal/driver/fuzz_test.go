package driver

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzStatusFile(f *testing.F) {
	f.Add(`<domstatus state='1' reason='1' domid='3'><domain type='xen'><name>a</name></domain></domstatus>`)
	f.Add(`<domstatus><domain/></domstatus>`)
	f.Add(`<domstatus state='1' reason='1' domid='3'><domain type='xen'><name>a</name></domain>` +
		`<networkport><uuid>2e1c3ab4-52b3-4b2f-9f52-6d3e0e0e0e0e</uuid><owner><name>a</name><uuid>8e3327c9-dc19-4662-a471-c8936ba9319f</uuid></owner>` +
		`<mac address='00:16:3e:00:00:01'/><plug type='bridge' bridge='xenbr0'/></networkport></domstatus>`)
	f.Add(`<domstatus state='x'>`)
	// libvirt's layout (its Xen driver's, 9.0)
	f.Add(`<domstatus state='paused' reason='user' pid='0'><taint flag='custom-argv'/><lockstate>x</lockstate>` +
		`<domain type='xen' id='7'><name>a</name><uuid>8e3327c9-dc19-4662-a471-c8936ba9319f</uuid></domain></domstatus>`)
	f.Add(`<domstatus state='running' reason='from snapshot' pid='0'><domain type='xen' id='1'><name>b</name></domain></domstatus>`)
	f.Add(`<domstatus state='1' reason='1' domid='3'><domain type='xen'><name>a</name></domain>` +
		`<blockjob disk='xvda' type='commit' path='/i/top.qcow2' top='/i/mid.qcow2' base='/i/base.qcow2' baseFormat='qcow2' speed='1'>` +
		`<delete>/i/mid.qcow2</delete></blockjob><blockjob disk='xvdb' type='bogus' path=''/></domstatus>`)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		p := filepath.Join(dir, "s.xml")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		st, def, err := readStatus(p)
		if err == nil && (st == nil || def == nil || def.ID != nil) {
			t.Fatalf("inconsistent result for %q", content)
		}
		if err == nil && !st.numeric {
			// the state is written back by the name it was read by
			if state, _ := stateNamesOf(st.state, st.reason); state != st.State {
				t.Fatalf("state %q written back as %q", st.State, state)
			}
		}
		if err == nil {
			for _, r := range st.BlockJobs {
				if j, err := r.job(); err == nil && recordOf(j).Type != r.Type {
					t.Fatalf("block job of type %q read as %q", r.Type, recordOf(j).Type)
				}
			}
			for id, p := range st.ports() {
				if p == nil || p.UUID != id {
					t.Fatalf("port %q filed under %q", p.UUID, id)
				}
			}
		}
	})
}

package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/attrconform/attrconform/reference/store/etcdstore"
)

// serveEtcd holds the flags of the reference with --store etcd.
type serveEtcd struct {
	endpoints, prefix *string
	timeout           *time.Duration
}

func etcdFlags(fs *flag.FlagSet) serveEtcd {
	return serveEtcd{
		endpoints: fs.String("etcd-endpoints", "", "client URLs of the etcd members for --store etcd, comma-separated, e.g. http://127.0.0.1:2379,http://127.0.0.1:2381,http://127.0.0.1:2383"),
		prefix:    fs.String("etcd-prefix", etcdstore.DefaultPrefix, "key prefix of --store etcd: servers with the same prefix share one tenant's data; give each tenant its own prefix (none a prefix of another)"),
		timeout:   fs.Duration("etcd-timeout", 5*time.Second, "how long an operation of --store etcd waits for the cluster (a quorum) before the request is answered 503"),
	}
}

// misused says what is wrong when etcd flags are given without --store
// etcd, or --store etcd without endpoints.
func (e serveEtcd) misused(fs *flag.FlagSet, kind string) string {
	var given []string
	fs.Visit(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, "etcd-") {
			given = append(given, "--"+f.Name)
		}
	})
	switch {
	case kind != storeEtcd && len(given) > 0:
		return fmt.Sprintf("%s applies to --store etcd; add --store etcd or leave it out", strings.Join(given, ", "))
	case kind == storeEtcd && strings.TrimSpace(*e.endpoints) == "":
		return "--store etcd needs --etcd-endpoints URL,URL,... (the client URLs of the cluster's members)"
	case kind == storeEtcd && *e.timeout <= 0:
		return fmt.Sprintf("--etcd-timeout %v: give a positive duration, e.g. 5s", *e.timeout)
	case kind == storeEtcd && strings.Trim(*e.prefix, "/") == "" && *e.prefix != etcdstore.DefaultPrefix:
		return fmt.Sprintf("--etcd-prefix %q: give a prefix such as /attrconform/tenant-a/", *e.prefix)
	}
	return ""
}

// open connects to the cluster and describes where the data is.
func (e serveEtcd) open() (*etcdstore.Store, string, error) {
	endpoints, err := etcdstore.ParseEndpoints(*e.endpoints)
	if err != nil {
		return nil, "", fmt.Errorf("--etcd-endpoints: %v", err)
	}
	st, err := etcdstore.Open(etcdstore.Options{Endpoints: endpoints, Prefix: *e.prefix, Timeout: *e.timeout})
	if err != nil {
		return nil, "", fmt.Errorf("--store etcd: %v", err)
	}
	return st, fmt.Sprintf("in etcd at %s under %s", strings.Join(endpoints, ","), st.Prefix()), nil
}

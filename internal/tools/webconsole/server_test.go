package webconsole

import (
	"net/http"
	"testing"
)

// TestClusterResource: /v3/clusters lists the cluster with its id, and
// another cluster's id is 404 in REST Proxy's error shape.
func TestClusterResource(t *testing.T) {
	tc := startConsole(t, Config{})
	var list struct {
		Kind string `json:"kind"`
		Data []struct {
			Kind      string `json:"kind"`
			ClusterID string `json:"cluster_id"`
		} `json:"data"`
	}
	tc.mustJSON("GET", "/v3/clusters", nil, http.StatusOK, &list)
	if list.Kind != "KafkaClusterList" || len(list.Data) != 1 || list.Data[0].ClusterID == "" {
		t.Fatalf("clusters: %+v", list)
	}
	id := list.Data[0].ClusterID
	tc.mustJSON("GET", "/v3/clusters/"+id, nil, http.StatusOK, nil)
	var e apiError
	tc.mustJSON("GET", "/v3/clusters/not-"+id, nil, http.StatusNotFound, &e)
	if e.Code != 40403 {
		t.Fatalf("error code %d, want 40403", e.Code)
	}
}

// TestClusterResourceKfake: the same against a three-broker kfake cluster.
func TestClusterResourceKfake(t *testing.T) {
	tc, c := startConsoleKfake(t, Config{})
	var list struct {
		Data []struct {
			ClusterID string `json:"cluster_id"`
		} `json:"data"`
	}
	tc.mustJSON("GET", "/v3/clusters", nil, http.StatusOK, &list)
	_ = c
	if len(list.Data) != 1 || list.Data[0].ClusterID == "" {
		t.Fatalf("clusters: %+v", list)
	}
}

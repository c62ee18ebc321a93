package webconsole

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestTopicsAsUser: on a secured cluster, a signed-in user sees only the
// topics its ACLs let it describe, reads and writes those, and every
// refusal carries the cluster's error name (and is audited as the user's).
func TestTopicsAsUser(t *testing.T) {
	tc, _ := startSASLConsole(t, Config{})
	tc.mustLogin(aliceUser, alicePass)
	id := clusterIDOf(t, tc)
	var list topicList
	tc.mustJSON("GET", "/api/topics", nil, http.StatusOK, &list)
	if len(list.Topics) != 1 || list.Topics[0].Name != aliceTopic || list.Topics[0].Records == nil ||
		list.Topics[0].Bytes != nil || !strings.Contains(list.SizeError, "CLUSTER_AUTHORIZATION_FAILED") {
		t.Fatalf("alice's topic list: %+v", list)
	}
	var v3 struct {
		Data []topicResource `json:"data"`
	}
	tc.mustJSON("GET", "/v3/clusters/"+id+"/topics", nil, http.StatusOK, &v3)
	if len(v3.Data) != 1 || v3.Data[0].TopicName != aliceTopic {
		t.Fatalf("alice's REST v3 topics: %+v", v3.Data)
	}

	// Her topic: produce and read back.
	resp := produceREST(t, tc, id, aliceTopic, map[string]any{"key": map[string]any{"type": "STRING", "data": "mine"}}, http.StatusOK)
	if resp.ErrorCode != 200 {
		t.Fatalf("produce to her topic: %+v", resp)
	}
	if ans := browse(t, tc, aliceTopic, url.Values{"from": {"oldest"}}); len(ans.Records) != 1 || ans.Records[0].Key.Data != "mine" {
		t.Fatalf("her records: %+v", ans.Records)
	}

	// Another topic, and the cluster: refused with Kafka's error.
	refused := func(method, path string, body any) {
		t.Helper()
		var e apiError
		tc.mustJSON(method, path, body, http.StatusForbidden, &e)
		if !strings.Contains(e.Message, "AUTHORIZATION_FAILED") || e.Code != 40301 {
			t.Fatalf("%s %s: %+v", method, path, e)
		}
	}
	refused("GET", "/api/topics/other-topic", nil)
	refused("GET", "/api/topics/other-topic/messages", nil)
	refused("GET", "/api/topics/other-topic/tail", nil)
	refused("GET", "/v3/clusters/"+id+"/topics/other-topic", nil)
	refused("POST", "/v3/clusters/"+id+"/topics/other-topic/records", map[string]any{"value": map[string]any{"type": "STRING", "data": "x"}})
	refused("POST", "/v3/clusters/"+id+"/topics", map[string]any{"topic_name": "alice-new"})
	refused("DELETE", "/v3/clusters/"+id+"/topics/"+aliceTopic, nil)
	refused("PUT", "/v3/clusters/"+id+"/topics/"+aliceTopic+"/configs/retention.ms", map[string]any{"value": "1000"})
	refused("POST", "/api/topics/"+aliceTopic+"/partitions", map[string]any{"partitions_count": 3})

	refusals := 0
	for _, a := range tc.srv.audit.list() {
		if a.User == aliceUser && !a.OK {
			refusals++
		}
	}
	if refusals < 4 {
		t.Fatalf("audited refusals of alice: %d, want at least 4", refusals)
	}
}

package webconsole

// session_test.go tests the session store's bounds: a user's sessions
// beyond maxSessionsPerUser end the oldest (closing its client), and a
// full store makes room by ending the least recently used anonymous
// session, never a signed-in one.

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestSessionsPerUserBound(t *testing.T) {
	st := newSessions(time.Hour, time.Hour)
	now := time.Unix(1000, 0)
	var first *session
	for i := range maxSessionsPerUser {
		ses, err := st.add("alice", newKafkaSession("alice", nil), true, now.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = ses
		}
	}
	if _, err := st.add("bob", newKafkaSession("bob", nil), true, now); err != nil {
		t.Fatal(err)
	}
	if _, err := st.add("alice", newKafkaSession("alice", nil), true, now.Add(time.Hour/2)); err != nil {
		t.Fatal(err)
	}
	if st.count() != maxSessionsPerUser+1 {
		t.Fatalf("%d sessions, want alice's %d and bob's", st.count(), maxSessionsPerUser)
	}
	if st.get(first.id, now.Add(time.Hour/2)) != nil {
		t.Fatal("alice's oldest session survived her 21st sign-in")
	}
	if _, err := first.kafka.Client(); !errors.Is(err, errSessionClosed) {
		t.Fatalf("the ended session's Kafka session: %v, want closed", err)
	}
}

func TestSessionsFull(t *testing.T) {
	st := newSessions(time.Hour, time.Hour)
	now := time.Unix(1000, 0)
	anon := newKafkaSession("", nil)
	var oldest *session
	for i := range maxSessions {
		ses, err := st.add("", anon, false, now.Add(time.Duration(i)*time.Millisecond))
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		if i == 0 {
			oldest = ses
		}
	}
	// A signed-in user still gets in: the least recently used anonymous
	// session makes room.
	if _, err := st.add("alice", newKafkaSession("alice", nil), true, now.Add(time.Minute)); err != nil {
		t.Fatalf("sign-in into a full store of anonymous sessions: %v", err)
	}
	if st.get(oldest.id, now.Add(time.Minute)) != nil {
		t.Fatal("the least recently used anonymous session was not the one ended")
	}
	if errors.Is(anon.err, errSessionClosed) {
		t.Fatal("ending an anonymous session closed the shared anonymous Kafka session")
	}
	// Only signed-in sessions: a new one is refused, none is ended.
	full := newSessions(time.Hour, time.Hour)
	for i := range maxSessions {
		if _, err := full.add(fmt.Sprint("user", i), newKafkaSession("", nil), false, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := full.add("", anon, false, now); !errors.Is(err, errTooManySessions) {
		t.Fatalf("a full store of signed-in sessions: %v, want refused", err)
	}
	if full.count() != maxSessions {
		t.Fatalf("%d sessions after the refusal", full.count())
	}
}

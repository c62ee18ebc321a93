package group

// panic_test.go: a panic while a group's lock is held (a bug that some
// input triggers) leaves the group usable, and one in a coordinator timer
// is recovered, logged and reported instead of killing the process.

import (
	"testing"
	"time"
)

func TestPanicReleasesGroupLock(t *testing.T) {
	c := openCoordinator(t, t.TempDir(), NewFakeClock(time.Unix(1000, 0)))
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not reach the caller")
			}
		}()
		c.do("g", true, func(*Group, time.Time) { panic("bug") })
	}()
	done := make(chan bool)
	go func() {
		found, _, _ := c.do("g", false, func(*Group, time.Time) {})
		done <- found
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the group stayed locked after a panic")
	}
}

func TestTimerPanicRecovered(t *testing.T) {
	var tasks []string
	c := openCoordinator(t, t.TempDir(), NewFakeClock(time.Unix(1000, 0)), OnPanic(func(task string) { tasks = append(tasks, task) }))
	c.guard("group deadline", func() { panic("bug") })
	if len(tasks) != 1 || tasks[0] != "group deadline" {
		t.Fatalf("reported %v", tasks)
	}
}

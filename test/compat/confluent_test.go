package compat

// confluent_test.go runs confluent/configs.py (confluent-kafka-python,
// librdkafka, Debian's python3-confluent-kafka) against the broker: Kafka
// Connect's compacted internal topics created, described, altered, used
// and read back compacted, and a topic created with every topic config of
// Kafka 4 described back.

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// requireConfluent returns a Python that imports confluent_kafka, or
// fails/skips the test. Debian's package installs it for /usr/bin/python3,
// which a python3 earlier in PATH (pyenv, a virtualenv) may not see.
func requireConfluent(t *testing.T) string {
	t.Helper()
	var candidates []string
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/python3")
	for _, p := range candidates {
		if exec.Command(p, "-c", "import confluent_kafka.admin").Run() == nil {
			return p
		}
	}
	missing(t, "confluent-kafka for Python", "install it with `apt-get install python3-confluent-kafka`")
	return ""
}

// runConfigsPy runs configs.py with actions against addr and returns one
// result per action.
func runConfigsPy(t *testing.T, python, addr string, actions ...configAction) []configResult {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("confluent", "configs.py"))
	if err != nil {
		t.Fatal(err)
	}
	spec := map[string]any{"brokers": addr, "actions": actions}
	return runActions(t, "python3 configs.py", spec, len(actions), python, script)
}

// TestConfluentConnectInternalTopics runs checkConnectTopics with
// confluent-kafka: version 1.7.0 (Debian bookworm) alters configs with
// AlterConfigs only (incremental_alter_configs came in 2.2.0).
func TestConfluentConnectInternalTopics(t *testing.T) {
	python := requireConfluent(t)
	b := startCompactBroker(t)
	checkConnectTopics(t, "confluent-kafka", b.Addr(), func(actions ...configAction) []configResult {
		return runConfigsPy(t, python, b.Addr(), actions...)
	})
}

// TestConfluentEveryTopicConfig creates a topic with every topic config of
// Kafka 4.0 (kafkaTopicConfigs, 33 of them) through confluent-kafka's
// AdminClient.create_topics and describes it back: each with the value
// given, set on the topic.
func TestConfluentEveryTopicConfig(t *testing.T) {
	python := requireConfluent(t)
	b := startCompactBroker(t)
	const topic = "every-config"
	res := runConfigsPy(t, python, b.Addr(),
		configAction{Op: "create", Topics: []newTopic{{connectTopic: connectTopic{topic, 3}, ReplicationFactor: -1, Configs: kafkaTopicConfigs}}},
		configAction{Op: "describe", Topic: topic})
	mustOK(t, res[0])
	checkDescribed(t, "confluent-kafka", topic, mustOK(t, res[1]).Configs, kafkaTopicConfigs)
}

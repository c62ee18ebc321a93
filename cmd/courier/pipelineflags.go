package main

// pipelineflags.go holds the flags the pipeline commands (gateway,
// simulate, demo, sink) share: the city and partitioning, and logging.

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/spf13/cobra"
)

// cityFlags are --city-bbox and --partition-by.
type cityFlags struct {
	bbox, mode string
}

// register adds the flags to cmd.
func (f *cityFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.bbox, "city-bbox", bboxString(region.Bengaluru.Box), "city bounding box minLat,minLon,maxLat,maxLon (its diagonals cut it into the regions)")
	cmd.Flags().StringVar(&f.mode, "partition-by", string(region.ByRegion), "partitioning: region (one partition per region of the city) or rider (key hash)")
}

// parse returns the city and the partitioning mode.
func (f *cityFlags) parse() (region.City, region.Mode, error) {
	mode, err := region.ParseMode(f.mode)
	if err != nil {
		return region.City{}, "", fmt.Errorf("--partition-by: %w", err)
	}
	box, err := region.ParseBBox(f.bbox)
	if err != nil {
		return region.City{}, "", fmt.Errorf("--city-bbox: %w", err)
	}
	if box == region.Bengaluru.Box {
		return region.Bengaluru, mode, nil
	}
	return region.City{Name: "city " + f.bbox, Box: box}, mode, nil
}

// bboxString formats a box as --city-bbox takes it.
func bboxString(b region.BBox) string {
	return fmt.Sprintf("%g,%g,%g,%g", b.MinLat, b.MinLon, b.MaxLat, b.MaxLon)
}

// waitingForCluster returns the publish.Config.OnUnreachable of a command
// that waits for its cluster: a warning on logger, every few seconds.
func waitingForCluster(logger *slog.Logger, brokers string) func(time.Duration, error) {
	return func(waited time.Duration, err error) {
		logger.Warn("cluster unreachable; waiting for it (Ctrl-C to stop)", "brokers", brokers, "waited", waited, "err", err)
	}
}

// logFlags are --log-level and --log-format.
type logFlags struct {
	level, format string
}

// register adds the flags to cmd with the given default level.
func (f *logFlags) register(cmd *cobra.Command, level string) {
	cmd.Flags().StringVar(&f.level, "log-level", level, "log level: debug, info, warn or error")
	cmd.Flags().StringVar(&f.format, "log-format", "text", "log format: text or json")
}

// logger builds the logger, writing to w.
func (f *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	return newLogger(w, f.level, f.format)
}

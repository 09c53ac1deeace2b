package existing

import (
	"errors"
	"fmt"
	"testing"

	"k8s.io/streaming/pkg/httpstream"
)

// TestFallBackToSPDY: an exec whose WebSocket upgrade is refused (the
// error client-go's WebSocket transport returns) falls back to SPDY; other
// errors do not.
func TestFallBackToSPDY(t *testing.T) {
	t.Parallel()
	refused := fmt.Errorf("exec: %w", &httpstream.UpgradeFailureError{Cause: errors.New("bad handshake")})
	if !fallBackToSPDY(refused) {
		t.Errorf("refused upgrade %v: no fallback to SPDY", refused)
	}
	if !fallBackToSPDY(errors.New("proxy: unknown scheme: https")) {
		t.Error("HTTPS proxy dial error: no fallback to SPDY")
	}
	if fallBackToSPDY(errors.New("command terminated with exit code 1")) {
		t.Error("a command's own failure falls back to SPDY")
	}
}

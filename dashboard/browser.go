package dashboard

import (
	"context"
	"os/exec"
	"runtime"
	"time"

	"github.com/rs/zerolog"
)

// openBrowser opens url in the desktop's browser after delay. It is best
// effort: a machine without a browser or a display only logs it.
func openBrowser(ctx context.Context, log zerolog.Logger, url string, delay time.Duration) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(delay):
	}
	var name string
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		name = "rundll32"
	default:
		name = "xdg-open"
	}
	args := []string{url}
	if runtime.GOOS == "windows" {
		args = []string{"url.dll,FileProtocolHandler", url}
	}
	path, err := exec.LookPath(name)
	if err != nil {
		log.Debug().Str("url", url).Msg("no browser opener (" + name + ") found; open the dashboard yourself")
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := exec.CommandContext(cctx, path, args...).Run(); err != nil {
		log.Debug().Err(err).Str("url", url).Msg("could not open a browser; open the dashboard yourself")
	}
}

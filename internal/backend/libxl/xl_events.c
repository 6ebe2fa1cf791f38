//go:build libxl

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/time.h>

#include "xl_logger.h"
#include "_cgo_export.h"

/* One round of libxl's application poll loop (libxl_event.h, "the first
 * approach"): poll libxl's fds and our wake-up fd, let libxl act on the
 * result, then hand every ready event to Go (goLibxlEvent). Returns 1
 * when wakefd was readable, 0 otherwise, or a libxl error code. */
int vx_poll_once(libxl_ctx *ctx, int wakefd, uintptr_t handle)
{
	struct pollfd *fds = NULL, *grown;
	struct timeval now;
	int room = 8, nfds, timeout, rc, i, woken;

	for (;;) {
		grown = realloc(fds, (room + 1) * sizeof(*fds));
		if (!grown) {
			free(fds);
			return ERROR_NOMEM;
		}
		fds = grown;
		nfds = room;
		timeout = -1;
		gettimeofday(&now, NULL);
		rc = libxl_osevent_beforepoll(ctx, &nfds, fds + 1, &timeout, now);
		if (rc != ERROR_BUFFERFULL)
			break;
		room = nfds;
	}
	if (rc) {
		free(fds);
		return rc;
	}
	fds[0].fd = wakefd;
	fds[0].events = POLLIN;
	for (i = 0; i <= nfds; i++)
		fds[i].revents = 0;
	rc = poll(fds, nfds + 1, timeout);
	if (rc < 0 && errno != EINTR) {
		free(fds);
		return ERROR_FAIL;
	}
	gettimeofday(&now, NULL);
	libxl_osevent_afterpoll(ctx, nfds, fds + 1, now);
	woken = (fds[0].revents & POLLIN) != 0;
	free(fds);

	for (;;) {
		libxl_event *ev;
		int reason = 0;

		rc = libxl_event_check(ctx, &ev, LIBXL_EVENTMASK_ALL, NULL, NULL);
		if (rc == ERROR_NOT_READY)
			break;
		if (rc)
			return rc;
		if (ev->type == LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN)
			reason = ev->u.domain_shutdown.shutdown_reason;
		goLibxlEvent(handle, (int)ev->type, ev->domid, reason);
		libxl_event_free(ctx, ev);
	}
	return woken;
}

/* libxl's disaster callback (libxl_event_register_callbacks): without it
 * libxl calls exit(-1) when its event loop breaks, as it does when
 * xenstored goes away. It may not call libxl: it only tells Go. */
static void vx_disaster(void *user, libxl_event_type type, const char *msg,
                        int errnoval)
{
	goLibxlDisaster((uintptr_t)user, (int)type, (char *)msg, errnoval);
}

static const libxl_event_hooks vx_hooks_disaster = {
	.event_occurs_mask = 0,
	.event_occurs = NULL,
	.disaster = vx_disaster,
};

void vx_event_hooks(libxl_ctx *ctx, uintptr_t handle)
{
	libxl_event_register_callbacks(ctx, &vx_hooks_disaster, (void *)handle);
}

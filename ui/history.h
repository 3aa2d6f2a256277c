/* history: the state of the history view (ui/history.c, key H): the
 * changes that ended their probation and the selected one's change. */
#ifndef NFP_HISTORY_VIEW_H
#define NFP_HISTORY_VIEW_H

#include "probation/history.h"
#include "ui/list.h"

struct history_view {
	struct history_entry *hent; /* list.n of them */
	struct list list;
	char *change;               /* the selected entry's change */
	int restore_n;              /* the entry r asked to restore */
};

#endif

/*
 * mime_int: what the mime_*.c files share and nothing else uses.
 */
#ifndef POSTERN_MIME_INT_H
#define POSTERN_MIME_INT_H

#include "mime.h"

struct mime_entity *mime_entity_alloc(void);
int mime_entity_interpret(struct mime_entity *e, const char *ct,
    size_t ctlen, const char *cte, size_t ctelen);

#endif

/*
 * switchyard/switchyard.h - the whole public API.
 *
 * Include this one header; the others are split only to keep each contract
 * readable. Nothing here exposes a type of a third-party library.
 */
#ifndef SWITCHYARD_SWITCHYARD_H
#define SWITCHYARD_SWITCHYARD_H

#include "error.h"
#include "option.h"
#include "plugin.h"
#include "catalog.h"
#include "config.h"
#include "value.h"
#include "actor.h"
#include "io.h"
#include "runner.h"
#include "platform.h"
#include "flow.h"
#include "event.h"
#include "storage.h"
#include "registry.h"
#include "lifecycle.h"
#include "csv.h"
#include "file.h"
#include "hash.h"
#include "state.h"
#include "endian.h"
#include "buf.h"
#include <switchyard/version.h>

#endif /* SWITCHYARD_SWITCHYARD_H */

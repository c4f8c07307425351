/*
 * SPDX-License-Identifier: BSD-3-Clause
 * tmsfield.h: the whole public API of the tmsfield library.
 *
 * TMS electric fields by finite elements: read a head mesh and a coil, set the
 * coil pose and dI/dt, and get E in the head.  See common.h for the
 * conventions shared by every call (status codes, SI units, ownership, threads).
 */
#ifndef TMSFIELD_H
#define TMSFIELD_H

#include <tmsfield/common.h>
#include <tmsfield/context.h>
#include <tmsfield/mesh.h>
#include <tmsfield/coil.h>
#include <tmsfield/coil-parametric.h>
#include <tmsfield/pose.h>
#include <tmsfield/solver.h>
#include <tmsfield/simulation.h>
#include <tmsfield/field.h>
#include <tmsfield/catalogue.h>
#include <tmsfield/waveform.h>
#include <tmsfield/protocol.h>
#include <tmsfield/region.h>
#include <tmsfield/dose.h>
#include <tmsfield/placement.h>
#include <tmsfield/coilset.h>
#include <tmsfield/surface.h>
#include <tmsfield/targets.h>
#include <tmsfield/head.h>
#include <tmsfield/output.h>
#include <tmsfield/labels.h>
#include <tmsfield/meshing.h>
#include <tmsfield/search.h>
#include <tmsfield/navigator.h>
#include <tmsfield/render.h>

#endif /* TMSFIELD_H */

/*
 * SPDX-License-Identifier: BSD-3-Clause
 * commands.h: subcommands of the tmsfield tool, one file each (apps/cmd-NAME.c).
 * Each takes the arguments after its name and returns the exit code
 * (0 success, 1 library error, 2 usage error).
 */
#ifndef TMSF_APPS_COMMANDS_H
#define TMSF_APPS_COMMANDS_H

int tmsf_cmd_protocol(int argc, char **argv);
int tmsf_cmd_dose(int argc, char **argv);
int tmsf_cmd_place(int argc, char **argv);
/* tmsfield coils: list the coil catalogue (apps/cmd-coils.c). */
int tmsf_cmd_coils(int argc, char **argv);
/* tmsfield targets: named MNI targets, optionally projected onto a head (apps/cmd-targets.c). */
int tmsf_cmd_targets(int argc, char **argv);
/* tmsfield mesh: label volume -> head mesh (apps/cmd-mesh.c). */
int tmsf_cmd_mesh(int argc, char **argv);
/* tmsfield render: PNG pictures of a field (apps/cmd-render.c). */
int tmsf_cmd_render(int argc, char **argv);

#endif

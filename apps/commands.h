/*
 * SPDX-License-Identifier: BSD-3-Clause
 * commands.h: subcommands of the tmsfield command-line tool, one file each
 * (apps/cmd-NAME.c), dispatched from main() in apps/tmsfield.c.  Each takes
 * the arguments after its name and returns the exit code (0 success, 1 a
 * library error, 2 a usage error).
 */
#ifndef TMSF_APPS_COMMANDS_H
#define TMSF_APPS_COMMANDS_H

/* tmsfield coils: list the coil catalogue (apps/cmd-coils.c). */
int tmsf_cmd_coils(int argc, char **argv);

#endif /* TMSF_APPS_COMMANDS_H */

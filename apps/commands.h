/*
 * SPDX-License-Identifier: BSD-3-Clause
 * commands.h: the tmsfield subcommands that live in their own files
 * (apps/cmd-NAME.c); each takes the arguments after its name.
 */
#ifndef TMSF_COMMANDS_H
#define TMSF_COMMANDS_H

int tmsf_cmd_dose(int argc, char **argv);

#endif

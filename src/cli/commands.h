/*
 * commands.h: every verb of the gonogo binary, one cmd_<verb>.c each.
 * Each takes argv with argv[0] = the verb and returns the exit code.
 */
#ifndef GG_COMMANDS_H
#define GG_COMMANDS_H

int cmd_sandbox(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_approve(int argc, char **argv);
int cmd_attest(int argc, char **argv);
int cmd_retro(int argc, char **argv);
int cmd_mark(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_journal(int argc, char **argv);

int cmd_check(int argc, char **argv);
int cmd_eval(int argc, char **argv);

int cmd_plan(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_rehearse(int argc, char **argv);

#endif

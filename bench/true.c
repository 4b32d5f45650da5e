/* A static program that exits 0 at once: the "interpreter" of the launcher-alone fixtures, so that a pair
 * "launcher execs it" against "the driver execs it directly" measures the launcher's own cost and nothing
 * of Python. Named python3.11 by scripts/bench so that the launcher identifies it by name. */
int main(void) { return 0; }

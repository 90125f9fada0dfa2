#include "ipcscope.h"
void ips_signals_init(void) {}

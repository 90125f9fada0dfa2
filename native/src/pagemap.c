#include "ipcscope.h"
int ips_pfn_readable(void) { return 0; }

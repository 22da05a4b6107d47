/* placeholder until the CLI lands */
#include <stdio.h>
#include "switchyard/switchyard.h"
int main(void) {
  printf("switchyard %s\n", sy_version());
  return 0;
}

import sys

from lmrnn.cli import main

sys.exit(main())

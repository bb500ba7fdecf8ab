import sys

from guidesearch.cli import main

sys.exit(main())

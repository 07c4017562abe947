from tgstats.cli import main

raise SystemExit(main())

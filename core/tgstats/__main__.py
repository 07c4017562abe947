from tgstats.cli.main import main

raise SystemExit(main())

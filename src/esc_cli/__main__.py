from esc_cli.app import main

main()
